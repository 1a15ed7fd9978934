#include "crypto/statements.h"

#include "crypto/domain.h"
#include "crypto/wire.h"

namespace parley {

std::string EnrollStatement(std::string_view invite_hash,
                            std::string_view name,
                            std::string_view key_bundle) {
  WireWriter w;
  w.Fixed(invite_hash);
  w.Bytes8(name.substr(0, 255));
  w.Bytes32(key_bundle);
  return SigningInput(kEnrollStatementTag, w.bytes());
}

std::string AuthStatement(std::string_view origin, std::string_view nonce,
                          std::string_view identity_key) {
  WireWriter w;
  w.Bytes8(origin.substr(0, 255));
  w.Fixed(nonce);
  w.Fixed(identity_key);
  return SigningInput(kAuthStatementTag, w.bytes());
}

std::string RotateStatement(std::string_view name,
                            std::string_view key_bundle) {
  WireWriter w;
  w.Bytes8(name.substr(0, 255));
  w.Bytes32(key_bundle);
  return SigningInput(kRotateStatementTag, w.bytes());
}

}  // namespace parley
