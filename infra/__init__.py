"""Configuration and plumbing: settings, the database engine, the Temporal client and its codec."""
