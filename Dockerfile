# pctx in a container, from release files: run `make docker` (or `make dist`, then
# `docker build -f Dockerfile dist`): the build context is the dist directory, and only
# its bin/linux-ARCH/ (pctx and tsgo/) is sent (Dockerfile.dockerignore).
#
#   docker build -f Dockerfile -t pctx dist                  static binary, distroless, non-root
#   docker build -f Dockerfile --target node -t pctx:node dist   the same plus Node.js, for npm
#                                                            stdio upstreams (command = "npx")
#   docker buildx build --platform linux/amd64,linux/arm64 -f Dockerfile dist
#
# TARGETOS and TARGETARCH come from BuildKit (docker's builder since 23.0).
#
# Run it as an MCP stdio server (what an MCP client's config runs), with a config mounted
# where pctx looks for ./pctx.toml:
#
#   docker run -i --rm -v "$PWD/pctx.toml:/etc/pctx/pctx.toml:ro" pctx start --stdio
#
# Over HTTP it must listen beyond the container's loopback, so the config needs an API key:
# [server] http = "0.0.0.0:8080", api_key = "${env:PCTX_API_KEY}"; then
#   docker run --rm -p 127.0.0.1:8080:8080 -e PCTX_API_KEY -v ...:/etc/pctx/pctx.toml:ro pctx start

# The node target: Debian slim with Node.js and npm, user node (uid 1000).
FROM node:24-slim AS node
ARG TARGETOS
ARG TARGETARCH
COPY bin/${TARGETOS}-${TARGETARCH}/ /opt/pctx/
ENV PATH=/opt/pctx:$PATH
WORKDIR /etc/pctx
USER node
ENTRYPOINT ["/opt/pctx/pctx"]
CMD ["start", "--stdio"]

# The default target (last): distroless static (CA certificates, tzdata, /etc/passwd, no
# shell), user nonroot (uid 65532). pctx is static and finds tsgo/ beside itself.
FROM gcr.io/distroless/static-debian12:nonroot AS static
ARG TARGETOS
ARG TARGETARCH
COPY bin/${TARGETOS}-${TARGETARCH}/ /opt/pctx/
ENV PATH=/opt/pctx:$PATH
WORKDIR /etc/pctx
USER nonroot:nonroot
ENTRYPOINT ["/opt/pctx/pctx"]
CMD ["start", "--stdio"]
