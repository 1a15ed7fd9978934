# Decoded parley.v1 requests to a running parleyd, from every role and from a
# caller without a session (server_request_fuzzer.cc).
parley_fuzzer(server_request parley_server parley_testing)
