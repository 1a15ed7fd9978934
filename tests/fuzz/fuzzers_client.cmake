# Client-side parsers of bytes from the server or from other members, and
# parleyd's TOML configuration.
parley_fuzzer(proof_bundle parley_client)
# The structure-aware half mutates the independently built bundle.
target_compile_definitions(proof_bundle_fuzzer PRIVATE
  PARLEY_FUZZ_BASE_BUNDLE="${PROJECT_SOURCE_DIR}/tests/interop/synthetic_bundle.json")
parley_fuzzer(geo_input parley_client)
parley_fuzzer(notification_content parley_client)
parley_fuzzer(payloads parley_client)
parley_fuzzer(delivery_check parley_client)
parley_fuzzer(config parley_server)
