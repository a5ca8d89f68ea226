# The single container: the web app, its in-process build workers and scheduler, data in a volume.
# Scaled out (web ×2, arq workers ×2, PostgreSQL, Redis, S3), the same image runs every app service: compose.yaml.
#
# Local sandboxes use bubblewrap, which needs user namespaces inside the container. Docker's default seccomp
# and AppArmor profiles refuse them, so run the container with
#     --security-opt seccomp=unconfined --security-opt apparmor=unconfined
# (or a seccomp profile allowing clone/unshare with CLONE_NEWUSER; on Ubuntu hosts also
# `sysctl kernel.apparmor_restrict_unprivileged_userns=0`). /readyz says whether the sandbox probe passes.
# Where namespaces cannot be allowed, either set E2B_API_KEY (builds run in E2B sandboxes) or build with
# `--build-arg BUBBLEWRAP=no`: the local sandbox then falls back to plain subprocesses (rlimits, a session of
# their own, the host network) and says so on /readyz and the admin page.
FROM python:3.11-slim-bookworm

ARG BUBBLEWRAP=yes
# Chromium (screenshots, acceptance checks) and bubblewrap from the distribution, as bin/setup installs them.
RUN apt-get update -qq \
    && apt-get install -y -qq --no-install-recommends chromium $([ "$BUBBLEWRAP" = yes ] && echo bubblewrap) \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin cofounder \
    && mkdir -p /data && chown cofounder:cofounder /data

WORKDIR /app
COPY --chown=cofounder:cofounder . /app
# The virtualenv bin/setup makes (pinned dependencies from pyproject.toml).
RUN python3 -m venv .venv \
    && .venv/bin/pip install -q --upgrade pip \
    && .venv/bin/pip install -q --no-cache-dir -e . \
    && chown -R cofounder:cofounder /app/.venv

USER cofounder
ENV PATH=/app/.venv/bin:$PATH \
    DATA_DIR=/data \
    HOST=0.0.0.0 \
    PORT=8080 \
    CHROMIUM_PATH=/usr/bin/chromium \
    ENV=production
VOLUME ["/data"]
EXPOSE 8080
# /healthz asks only the process and its database (never a page: each page GET creates a client).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]
CMD ["python", "main.py", "serve"]
