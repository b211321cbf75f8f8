# The SEND case engine's image: the API (the default command), the worker (`python worker.py`) and
# `send-engine` (migrate, backup, restore: docs/deploy.md).
# Debian trixie: its postgresql-client is 17, the major version of docker-compose.yml's app-db, so
# `send-engine backup` (pg_dump) and `restore` (pg_restore) match the server.
FROM python:3.11-slim-trixie

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*

# The sources only: never .venv, .git or var/ (development databases hold pupils' personal data).
COPY pyproject.toml worker.py ./
COPY domain/ domain/
COPY infra/ infra/
COPY store/ store/
COPY engine/ engine/
COPY workflows/ workflows/
COPY activities/ activities/
COPY api/ api/
COPY templates/ templates/

# Bytecode compiled now, as root: the worker's sandbox imports each workflow module once per case.
RUN pip install . \
    && python -m compileall -q workflows \
    && useradd --system --uid 10001 --no-create-home --home-dir /app send \
    && mkdir -p /app/var /app/backups \
    && chown send /app/var /app/backups

USER send
EXPOSE 8000
CMD ["uvicorn", "api.main:app", "--host", "0.0.0.0", "--port", "8000"]
