# Images of the grader.
#   runner  - the grading sandbox: Python with the rubric's packages, PostgreSQL 15, the harness.
#   service - the web service and its workers.
# Build through `grader image build` (it passes the rubric's package list); the layers are ordered
# so that a change of the harness or of the service code rebuilds only the last layer.
ARG BASE_IMAGE=python:3.12-slim-bookworm

FROM ${BASE_IMAGE} AS os
ENV LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive PYTHONDONTWRITEBYTECODE=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-15 \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb

FROM os AS runner
# The student's code runs as `student`, the hidden tests as `hidden`; neither can write where the
# other or the harness keeps its results.
RUN groupadd --gid 2000 student && useradd --uid 2000 --gid 2000 --no-create-home --home-dir /work \
      --shell /usr/sbin/nologin student \
 && groupadd --gid 2001 hidden && useradd --uid 2001 --gid 2001 --no-create-home --home-dir /work \
      --shell /usr/sbin/nologin hidden
# A ready cluster with the two non-superuser roles: a run copies it into its tmpfs instead of initdb.
# `student_tests` is the student's tests' database when the rubric runs them on PostgreSQL.
# `probe` and `probe_models` are the databases of the hidden checks: the student's code works in them
# as their owner; the hidden tests keep a table of their own in `probe` and read what happened.
RUN install -d -o postgres -g postgres -m 0700 /opt/pg-template \
 && su postgres -s /bin/sh -c '/usr/lib/postgresql/15/bin/initdb --no-sync --auth-local=peer \
      --auth-host=reject -U postgres -E UTF8 --locale=C.UTF-8 -D /opt/pg-template >/dev/null \
    && /usr/lib/postgresql/15/bin/pg_ctl -D /opt/pg-template -w -o "-c listen_addresses= \
      -c unix_socket_directories=/tmp -c fsync=off" start >/dev/null \
    && for role in student hidden; do \
         psql -h /tmp -U postgres -q -c "CREATE ROLE $role LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE" \
           -c "ALTER ROLE $role SET statement_timeout = 10000" -c "CREATE DATABASE $role OWNER $role"; \
       done \
    && psql -h /tmp -U postgres -q -c "CREATE DATABASE student_tests OWNER student" \
    && for db in probe probe_models; do \
         psql -h /tmp -U postgres -q -c "CREATE DATABASE $db OWNER student" \
         && psql -h /tmp -U postgres -q -d $db -c "GRANT CREATE ON SCHEMA public TO hidden"; \
       done \
    && /usr/lib/postgresql/15/bin/pg_ctl -D /opt/pg-template -w stop >/dev/null'
ARG RUNNER_PACKAGES="ruff pytest pytest-asyncio coverage httpx sqlalchemy[asyncio] asyncpg aiosqlite alembic"
COPY docker/build-ca/ /opt/build-ca/
RUN if [ -f /opt/build-ca/ca-bundle.crt ]; then export PIP_CERT=/opt/build-ca/ca-bundle.crt; fi \
 && python3 -m venv /opt/venv \
 && if [ -n "$RUNNER_PACKAGES" ]; then \
      /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check $RUNNER_PACKAGES; fi
# A submission's installed dependencies are mounted read-only at /opt/deps; this .pth file appends the
# folder to sys.path after the image's site-packages (and its own .pth files are never processed), so
# a package in it can add modules but never replace pytest, coverage, ruff, alembic or the harness.
RUN install -d -m 0755 /opt/deps \
 && echo /opt/deps > "$(/opt/venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/zz-grader-deps.pth"
# A runner variant for checks beyond Python (a rubric's `command` checks): Debian packages (e.g. nodejs,
# npm) and npm packages in /opt/node, found from the student's folder through /node_modules (Node looks
# for packages in every parent folder). Both lists come from the rubric's [runner] table; empty by default.
ARG SYSTEM_PACKAGES=""
ARG NODE_PACKAGES=""
RUN if [ -n "$SYSTEM_PACKAGES" ]; then apt-get update \
      && apt-get install -y --no-install-recommends $SYSTEM_PACKAGES \
      && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb; fi
RUN if [ -n "$NODE_PACKAGES" ]; then \
      if [ -f /opt/build-ca/ca-bundle.crt ]; then export npm_config_cafile=/opt/build-ca/ca-bundle.crt; fi \
      && install -d /opt/node && cd /opt/node && echo '{"private": true}' > package.json \
      && npm install --no-audit --no-fund --no-update-notifier --cache /tmp/npm-cache $NODE_PACKAGES \
      && rm -rf /tmp/npm-cache && ln -s /opt/node/node_modules /node_modules; fi
ENV PATH=/opt/venv/bin:/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# The harness' hash (passed by `grader image build`) labels the image, so an image digest in a
# report can be traced to the harness that produced it.
ARG HARNESS_SHA256=unknown
LABEL org.opencontainers.image.title="grader-runner" grader.harness.sha256="${HARNESS_SHA256}"
COPY grader/runner/harness/ /opt/grader/harness/
ENTRYPOINT ["/opt/venv/bin/python", "-I", "-B", "-c", "import sys, runpy; sys.path.insert(0, '/opt/grader'); runpy.run_module('harness', run_name='__main__')"]

FROM ${BASE_IMAGE} AS service
ENV LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# The workers start grading containers through the docker client, on the engine whose socket is
# mounted into the container (see deploy/README.md for the risk and the alternatives).
RUN apt-get update \
 && apt-get install -y --no-install-recommends docker.io ca-certificates \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb
RUN python3 -m venv /opt/venv
COPY pyproject.toml setup.py /src/
COPY grader /src/grader
COPY rubric /src/rubric
COPY docker/build-ca/ /opt/build-ca/
# The built-in rubrics install with the package (grader.rubrics), as they do for the reusable workflow.
RUN if [ -f /opt/build-ca/ca-bundle.crt ]; then export PIP_CERT=/opt/build-ca/ca-bundle.crt; fi \
 && touch /src/README.md && /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check /src
# The embedded SQLite default keeps its file here (production sets DATABASE_URL to PostgreSQL).
# Students' installed dependency sets are kept in GRADER_DEPS_CACHE_DIR and bind-mounted into grading
# containers by the host's engine, so that folder must be mounted from the host at the same path.
RUN install -d -o 10001 -g 10001 /var/lib/grader /var/lib/grader-deps
ENV GRADER_DEPS_CACHE_DIR=/var/lib/grader-deps
USER 10001:10001
WORKDIR /var/lib/grader
EXPOSE 8000
CMD ["grader", "serve", "--host", "0.0.0.0"]
