#ifndef PARLEY_STORAGE_LOG_SCHEMA_H_
#define PARLEY_STORAGE_LOG_SCHEMA_H_

// The on-disk layout of a LogStore: RocksDB column families and key
// encodings. Exposed for tools and tests that inspect or damage a store
// through raw RocksDB; everything else goes through LogStore.
//
//   entries      u64be(index)               -> entry bytes
//   nodes        u8(level) || u64be(index)   -> 32-byte perfect subtree hash
//                                              (level 0 = leaf hashes)
//   checkpoints  u64be(size)                -> signed checkpoint note
//   meta         "format" | "origin" | "verifier_key" | "size"(u64be)
//                | "index_rebuild" (only while a rebuild runs)
//   index.<name> caller-defined              -> caller-defined (IndexPut)

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace parley::log_schema {

inline constexpr char kEntries[] = "entries";
inline constexpr char kNodes[] = "nodes";
inline constexpr char kCheckpoints[] = "checkpoints";
inline constexpr char kMeta[] = "meta";
// Secondary index column families are "index." + the caller's name, so a
// caller can never collide with the log's own families.
inline constexpr char kIndexPrefix[] = "index.";

inline constexpr char kMetaFormat[] = "format";
inline constexpr char kMetaOrigin[] = "origin";
inline constexpr char kMetaVerifierKey[] = "verifier_key";
inline constexpr char kMetaSize[] = "size";
// Present while an index rebuild is in progress (value: unused).
inline constexpr char kMetaIndexRebuild[] = "index_rebuild";
inline constexpr char kFormatV1[] = "parley-log-v1";

std::string U64Key(uint64_t value);
// Nullopt unless `key` is exactly 8 bytes.
std::optional<uint64_t> DecodeU64Key(std::string_view key);
std::string NodeKey(int level, uint64_t index);

}  // namespace parley::log_schema

#endif  // PARLEY_STORAGE_LOG_SCHEMA_H_
