/*
 * scripts.c — Lua sources of the decide and commit scripts (scripts.h).
 *
 * Keys live under the prefix P (state.prefix, "ivr:"):
 *   P.."case:"..id        hash: the case (SPEC section 3 fields)
 *   P.."opencase:"..cust  string: the customer's open case ID
 *   P.."cases"            sorted set: every case ID by opened_at (ms)
 *   P.."cases:open"       sorted set: open and acknowledged case IDs
 *
 * Idempotence without per-entry bookkeeping: every update decide makes is
 * keyed by the entry ID (a case opened by entry E is "c-E"; E is added to
 * a case's event list once), so running it twice for one entry changes
 * nothing the second time and returns the same answer. commit writes an
 * entry's consequences only while the entry is still pending for the
 * committing consumer: once it is acked, or claimed by another consumer,
 * a late commit writes nothing.
 */
#include "scripts.h"

/*
 * decide — ARGV: P, entry_id, customer_id, now_ms, now_rfc3339, nfires,
 * then per fire: rule, severity name.
 * Returns "case_id|opened|severity" ("|0|" when there is no customer).
 */
const char script_decide[] =
"#!lua\n"
"local P, entry, cust = ARGV[1], ARGV[2], ARGV[3]\n"
"local now, now_rfc, n = ARGV[4], ARGV[5], tonumber(ARGV[6])\n"
"local rank = {low = 1, medium = 2, high = 3, critical = 4}\n"
"if cust == '' or n == 0 then return '|0|' end\n"
"local sev, rules = 'low', {}\n"
"for i = 0, n - 1 do\n"
"  local s = ARGV[8 + 2 * i]\n"
"  if (rank[s] or 0) > rank[sev] then sev = s end\n"
"  rules[#rules + 1] = ARGV[7 + 2 * i]\n"
"end\n"
"local ok = P .. 'opencase:' .. cust\n"
"local id = redis.call('GET', ok)\n"
"if id and redis.call('EXISTS', P .. 'case:' .. id) == 0 then id = nil end\n"
"local mine = 'c-' .. entry\n"
"local opened = 0\n"
"if not id then\n"
"  id = mine\n"
"  redis.call('HSET', P .. 'case:' .. id, 'case_id', id, 'customer_id', cust,\n"
"    'state', 'open', 'severity', sev, 'opened_at', now_rfc, 'rules', '',\n"
"    'events', '', 'step', 0, 'acked_by', '', 'resolved_at', '')\n"
"  redis.call('SET', ok, id)\n"
"  redis.call('ZADD', P .. 'cases', now, id)\n"
"  redis.call('ZADD', P .. 'cases:open', now, id)\n"
"end\n"
"if id == mine then opened = 1 end\n"
"local ck = P .. 'case:' .. id\n"
"local c = redis.call('HMGET', ck, 'severity', 'rules', 'events')\n"
"local csev = c[1] or 'low'\n"
"if (rank[sev] or 0) > (rank[csev] or 0) then\n"
"  csev = sev\n"
"  redis.call('HSET', ck, 'severity', csev)\n"
"end\n"
"local ev = c[3] or ''\n"
"if not string.find(',' .. ev .. ',', ',' .. entry .. ',', 1, true) then\n"
"  local have = ',' .. (c[2] or '') .. ','\n"
"  local rl = c[2] or ''\n"
"  for _, r in ipairs(rules) do\n"
"    if not string.find(have, ',' .. r .. ',', 1, true) then\n"
"      rl = (rl == '' and r) or (rl .. ',' .. r)\n"
"      have = have .. r .. ','\n"
"    end\n"
"  end\n"
"  ev = (ev == '' and entry) or (ev .. ',' .. entry)\n"
"  -- Keep the newest events only: the list is for people, not for replay.\n"
"  if #ev > 1024 then ev = string.sub(ev, string.find(ev, ',', #ev - 1024, true) + 1) end\n"
"  redis.call('HSET', ck, 'rules', rl, 'events', ev, 'updated_at', now_rfc)\n"
"end\n"
"return id .. '|' .. opened .. '|' .. csev\n";

/*
 * commit — ARGV: stream, group, consumer, nentries, then per entry:
 * entry_id, ncmds, then per command: argc, arg1..argc.
 * An entry no longer pending for this consumer is skipped (acked or
 * claimed meanwhile). An error in any of an entry's commands leaves it
 * unacked, to be retried and after max_deliveries dead-lettered.
 * Returns {acked, {written entry IDs}, {"entry error", ...}}.
 */
const char script_commit[] =
"#!lua\n"
"local stream, group, me = ARGV[1], ARGV[2], ARGV[3]\n"
"local i = 5\n"
"local n = tonumber(ARGV[4])\n"
"local acked, written, errs = 0, {}, {}\n"
"for e = 1, n do\n"
"  local id, ncmd = ARGV[i], tonumber(ARGV[i + 1])\n"
"  i = i + 2\n"
"  local mine = #redis.call('XPENDING', stream, group, id, id, 1, me) > 0\n"
"  local ok = true\n"
"  for c = 1, ncmd do\n"
"    local argc = tonumber(ARGV[i])\n"
"    if mine and ok then\n"
"      local r = redis.pcall(unpack(ARGV, i + 1, i + argc))\n"
"      if type(r) == 'table' and r.err then\n"
"        ok = false\n"
"        errs[#errs + 1] = id .. ' ' .. r.err\n"
"      end\n"
"    end\n"
"    i = i + 1 + argc\n"
"  end\n"
"  if mine and ok then\n"
"    redis.call('XACK', stream, group, id)\n"
"    acked = acked + 1\n"
"    written[#written + 1] = id\n"
"  end\n"
"end\n"
"return {acked, written, errs}\n";
