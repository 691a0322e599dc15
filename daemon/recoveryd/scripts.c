/*
 * scripts.c — the Lua the daemon runs inside Redis (scripts.h). There is
 * no rule semantics here: what a rule means is decided in C, by the store
 * (store.h), in the one instance that holds the lease. Lua only makes two
 * things atomic that Redis cannot make atomic otherwise: taking or
 * renewing the lease, and checking the lease while writing a batch.
 *
 * Numbers cross into Lua as strings and are only compared or passed on,
 * never formatted by Lua (whose tostring would print a large integer as
 * 1e+14), except the epoch, which INCR keeps small.
 */
#include "scripts.h"

/*
 * lease — KEYS: the lease key, its epoch counter. ARGV: our token (""
 * when we hold none), our consumer name, the lease in ms.
 * The holder renews (same token: PEXPIRE); anyone else takes a lease
 * that is gone, with a new epoch (INCR), as the token "<epoch> <name>".
 * Returns {1, token} to the holder, or {0, holder's token, its PTTL}
 * so that a standby can try again right when it ends. allow-oom: keeping
 * or passing on the lease must not wait for a full Redis to drain (the
 * writes are a few bytes).
 */
const char script_lease[] =
"#!lua flags=allow-oom\n"
"local v = redis.call('GET', KEYS[1])\n"
"if v and v == ARGV[1] then\n"
"  redis.call('PEXPIRE', KEYS[1], ARGV[3])\n"
"  return {1, v}\n"
"end\n"
"if v then return {0, v, redis.call('PTTL', KEYS[1])} end\n"
"local t = string.format('%d', redis.call('INCR', KEYS[2])) .. ' ' .. ARGV[2]\n"
"redis.call('SET', KEYS[1], t, 'PX', ARGV[3])\n"
"return {1, t}\n";

/* release — KEYS: the lease key. ARGV: our token. Gives the lease up
 * (at a clean stop) only if we still hold it. Returns 1 or 0. */
const char script_release[] =
"#!lua flags=allow-oom\n"
"if redis.call('GET', KEYS[1]) == ARGV[1] then\n"
"  redis.call('DEL', KEYS[1])\n"
"  return 1\n"
"end\n"
"return 0\n";

/*
 * apply — the fenced commit of one batch.
 * KEYS: the lease key.
 * ARGV: token, group, consumer, then for each of two streams (the input
 * stream, the command stream) its name and nids followed by the nids
 * entry IDs to ack, then nguard, nguard pairs (command index, input ID
 * index), then the commands, each as argc, arg1..argc, up to the end.
 *
 * Nothing is written unless the lease still holds our token (a paused
 * or partitioned old owner commits nothing: {0}). And nothing is
 * written while another consumer holds pending entries of the group in
 * either stream ({-1, consumer}): only the owner reads, so such entries
 * were read by an old owner after it lost the lease, and deciding ours
 * first would take the stream out of order; the owner claims them and
 * goes on from the oldest. (Under the lease no one else can have claimed
 * or acked our entries, and a commit that was fenced wrote nothing.) A
 * stream named "" is skipped (escalation batches ack nothing). The
 * summary form of XPENDING costs O(consumers). No person writes a case
 * directly (command.h), so the cache the owner decided on is current.
 *
 * Then every command runs (redis.pcall: one failing write, a channel
 * key of the wrong type say, does not stop the others); a failed
 * command guarded by an ID (a dead letter) leaves that input ID unacked,
 * so the entry stays pending and is tried again later. The other IDs
 * are acked, 1000 per XACK (unpack's limit is far above). Returns {1,
 * {"k error", ...}} with k the 1-based command index.
 * "#!lua" without allow-oom: Redis refuses the whole script up front
 * when it is out of memory, never half way.
 */
const char script_apply[] =
"#!lua\n"
"if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {0} end\n"
"local group, me = ARGV[2], ARGV[3]\n"
"local streams, i = {}, 4\n"
"for s = 1, 2 do\n"
"  local n = tonumber(ARGV[i + 1])\n"
"  streams[s] = {name = ARGV[i], first = i + 2, n = n}\n"
"  i = i + 2 + n\n"
"end\n"
"for _, st in ipairs(streams) do\n"
"  if st.name ~= '' then\n"
"    local p = redis.call('XPENDING', st.name, group)\n"
"    if p[4] then\n"
"      for _, c in ipairs(p[4]) do\n"
"        if c[1] ~= me then return {-1, c[1]} end\n"
"      end\n"
"    end\n"
"  end\n"
"end\n"
"local nguard = tonumber(ARGV[i])\n"
"local guard, keep = {}, {}\n"
"for g = 0, nguard - 1 do\n"
"  guard[tonumber(ARGV[i + 1 + 2 * g])] = tonumber(ARGV[i + 2 + 2 * g])\n"
"end\n"
"i = i + 1 + 2 * nguard\n"
"local k, errs = 0, {}\n"
"while i <= #ARGV do\n"
"  local argc = tonumber(ARGV[i])\n"
"  k = k + 1\n"
"  local r = redis.pcall(unpack(ARGV, i + 1, i + argc))\n"
"  if type(r) == 'table' and r.err then\n"
"    errs[#errs + 1] = k .. ' ' .. r.err\n"
"    if guard[k] then keep[guard[k]] = true end\n"
"  end\n"
"  i = i + 1 + argc\n"
"end\n"
"for s, st in ipairs(streams) do\n"
"  local ids = {}\n"
"  for j = 1, st.n do\n"
"    if s ~= 1 or not keep[j] then ids[#ids + 1] = ARGV[st.first + j - 1] end\n"
"  end\n"
"  for j = 1, #ids, 1000 do\n"
"    redis.call('XACK', st.name, group, unpack(ids, j, math.min(j + 999, #ids)))\n"
"  end\n"
"end\n"
"return {1, errs}\n";
