#ifndef PARLEY_CRYPTO_STATEMENTS_H_
#define PARLEY_CRYPTO_STATEMENTS_H_

// The statements a device signs with its identity key to talk to the server
// (PROTOCOL.md "Server statements"). Each is SigningInput(tag, body) with
// its own domain tag, so none can be replayed as another or as an envelope
// or receipt signature.

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "crypto/ed25519.h"

namespace parley {

inline constexpr std::string_view kEnrollStatementTag = "parley/v1/enroll";
inline constexpr std::string_view kAuthStatementTag = "parley/v1/auth";
inline constexpr std::string_view kRotateStatementTag = "parley/v1/rotate";

// body = invite_hash (32) || u8 len || name || u32 len || key_bundle
std::string EnrollStatement(std::string_view invite_hash,
                            std::string_view name,
                            std::string_view key_bundle);
// body = u8 len || origin || nonce (32) || identity_key (32)
std::string AuthStatement(std::string_view origin, std::string_view nonce,
                          std::string_view identity_key);
// body = u8 len || name || u32 len || key_bundle
std::string RotateStatement(std::string_view name,
                            std::string_view key_bundle);

}  // namespace parley

#endif  // PARLEY_CRYPTO_STATEMENTS_H_
