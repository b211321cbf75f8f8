"""The revisions, oldest first: 0001_initial is the schema as create_all made it before migrations."""
