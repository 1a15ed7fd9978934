# Fuzz targets for the crypto/ and storage/tlog/ parsers of untrusted bytes:
# what a member, the server or a log hands to a device or an auditor.
parley_fuzzer(envelope parley_crypto)
parley_fuzzer(receipt parley_crypto)
parley_fuzzer(prekey parley_crypto)
parley_fuzzer(encoding parley_crypto)
parley_fuzzer(log_entry parley_tlog)
parley_fuzzer(note parley_tlog)
parley_fuzzer(checkpoint parley_tlog)
parley_fuzzer(tlog_proof parley_tlog)
parley_fuzzer(merkle parley_tlog)
