# One image for every process of the bus: NDXP and each provincial LGSP differ only in their
# command (`lgsp serve --instance NAME ...`, see docker-compose.yml). With no arguments it serves
# the whole bus in one process, as `make run` does.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src

# The runtime dependencies first, in a layer of their own: editing the code does not reinstall them.
COPY pyproject.toml README.md ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# Then the project itself, as pyproject.toml builds its wheel: the packages and the catalog.
COPY lgsp/ lgsp/
COPY adapters/ adapters/
COPY mocks/ mocks/
COPY kit/ kit/
COPY formats/ formats/
COPY services/ services/
RUN pip install --no-deps . \
    && rm -rf /src \
    && useradd --uid 10001 --create-home --shell /usr/sbin/nologin lgsp

# Not root. The home folder is writable: SQLite under ./.lgsp when no LGSP_DATABASE_URL is set.
USER lgsp
WORKDIR /home/lgsp

EXPOSE 8000

# Healthy once the bus is ready (GET /readyz: 200 when it is open, its database answers and its
# mock systems are open; 503 while it starts), so "healthy" is what a client may wait for.
# /healthz answers 200 as soon as the process listens, before the bus is open. urlopen raises on
# 503 or no answer, so exit 1. The slim image has no curl, hence Python.
HEALTHCHECK --interval=5s --timeout=3s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2).status != 200)"]

CMD ["lgsp", "serve", "--host", "0.0.0.0", "--port", "8000"]
