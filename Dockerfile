# meshdeck's container image: the release binary scripts/build.sh makes,
# with the UI embedded in it, on a distroless base, as a non-root user.
#
#   docker build -t registry.example.com/meshdeck:0.1.0 .
#
# The build stage runs the repository's own scripts: setup.sh installs the
# toolchain (the wasm32 target, Trunk, wasm-bindgen, wasm-opt; it also
# installs the test tools, which stay in this stage), build.sh builds the
# UI and then the server with the UI embedded. A test (server/tests/
# deploy.rs) checks that the file copied below is the one build.sh makes.

FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN scripts/setup.sh && scripts/build.sh

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/meshdeck /usr/local/bin/meshdeck
USER 65532:65532
EXPOSE 8080 9090
ENTRYPOINT ["/usr/local/bin/meshdeck"]
CMD ["serve", "--in-cluster", "--bind", "0.0.0.0:8080"]
