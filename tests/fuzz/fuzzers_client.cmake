# Client-side parsers of bytes from the server or from other members, and
# parleyd's TOML configuration.
parley_fuzzer(proof_bundle parley_deconfliction)
# The structure-aware half mutates the independently built bundle.
target_compile_definitions(proof_bundle_fuzzer PRIVATE
  PARLEY_FUZZ_BASE_BUNDLE="${PROJECT_SOURCE_DIR}/tests/interop/synthetic_bundle.json")
parley_fuzzer(geo_input parley_deconfliction)
parley_fuzzer(notification_content parley_deconfliction)
parley_fuzzer(payloads parley_client_core)
parley_fuzzer(delivery_check parley_client_core)
parley_fuzzer(config parley_server)
