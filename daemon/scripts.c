/*
 * scripts.c — Lua sources of the decide and commit scripts (scripts.h).
 *
 * Keys live under the prefix P (state.prefix, "ivr:"):
 *   P.."case:"..id        hash: the case (SPEC section 3 fields)
 *   P.."opencase:"..cust  string: the customer's open case ID
 *   P.."cases"            sorted set: every case ID by opened_at (ms)
 *   P.."cases:open"       sorted set: open and acknowledged case IDs
 * and the state keys described above script_decide.
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
 * decide — the state half of the decisions of a batch of events
 * (state.h), in stream order, atomically.
 * ARGV: P, now_ms, now_rfc3339, nevents, then per event: entry, t_ms,
 * customer, call_id, agent_id, queue, ncand, then per candidate:
 *   rule, severity, kind (p plain, c count, a aggregate, f after), key,
 *   cooldown_ms,
 *   c: within_ms, at_least
 *   a: within_ms, fn, min_samples, has_num (0/1), num, alert_if RPN
 *   f: rule Q, field F, within_ms, this event's F value
 *   nremember, remember_ms, then nremember pairs (field, value),
 *   nsteps, then nsteps pairs (after_ms, channel set).
 * Returns per event {case_id, opened (0/1), case severity, then per
 *   candidate: fired (0/1), count (-1: none), value ("": none), samples
 *   (-1: none)}.
 * Keys: P.."w:"..rule..":"..key (count window, member entry),
 * P.."ag:"..rule..":"..key (aggregate window, member entry|value, with
 * running totals in ..":s" and, for min/max, values in ..":v"),
 * P.."af:"..rule..":"..field..":"..value (rule fired, for "after"),
 * P.."cd:"..rule..":"..key (last firing "entry|t_ms", for cooldowns),
 * P.."case:"..id..":steps" (hash "after|channels" -> "rule|step"),
 * P.."escalations" (sorted set "case|rule|step" by due time, ms).
 * Numbers are formatted with %.0f/%.17g: Lua's tostring would print
 * epoch milliseconds as 1.7e+12.
 */
const char script_decide[] =
"#!lua\n"
"local P, now, now_rfc = ARGV[1], tonumber(ARGV[2]), ARGV[3]\n"
"local nev, i = tonumber(ARGV[4]), 5\n"
"local entry, t, cust, call, agent, queue, n\n"
"local rank = {low = 1, medium = 2, high = 3, critical = 4}\n"
"local function fmt(x) return string.format('%.0f', x) end\n"
"local function rpn(prog, v, s)\n"
"  local st = {}\n"
"  for tok in string.gmatch(prog, '%S+') do\n"
"    if tok == 'v' then st[#st + 1] = v\n"
"    elseif tok == 's' then st[#st + 1] = s\n"
"    elseif tok == 'not' then\n"
"      if #st < 1 then return false end\n"
"      st[#st] = (st[#st] ~= 0) and 0 or 1\n"
"    elseif tok == 'and' or tok == 'or' or tok == '==' or tok == '!=' or\n"
"        tok == '<' or tok == '<=' or tok == '>' or tok == '>=' then\n"
"      if #st < 2 then return false end\n"
"      local b = table.remove(st)\n"
"      local a = table.remove(st)\n"
"      local r\n"
"      if tok == 'and' then r = a ~= 0 and b ~= 0\n"
"      elseif tok == 'or' then r = a ~= 0 or b ~= 0\n"
"      elseif tok == '==' then r = a == b\n"
"      elseif tok == '!=' then r = a ~= b\n"
"      elseif tok == '<' then r = a < b\n"
"      elseif tok == '<=' then r = a <= b\n"
"      elseif tok == '>' then r = a > b\n"
"      else r = a >= b end\n"
"      st[#st + 1] = r and 1 or 0\n"
"    else\n"
"      local x = tonumber(tok)\n"
"      if x == nil or #st >= 64 then return false end\n"
"      st[#st + 1] = x\n"
"    end\n"
"  end\n"
"  return #st == 1 and st[1] ~= 0\n"
"end\n"
"-- window_add: member joins key at time t; entries older than the newest\n"
"-- minus twice the window go (events may be late by up to the window).\n"
"local function window_add(key, member, within)\n"
"  redis.call('ZADD', key, fmt(t), member)\n"
"  local top = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')\n"
"  redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. fmt(tonumber(top[2]) - 2 * within))\n"
"  redis.call('PEXPIRE', key, fmt(2 * within + 60000))\n"
"end\n"
"-- Aggregates keep running totals of the window [newest - within, newest]\n"
"-- in the hash W..':s' (n, sum, pro, det, lo = its lower bound, hi = the\n"
"-- newest time) and, for min/max, the values in the sorted set W..':v':\n"
"-- each event costs O(log n) plus the events it pushes out of the window.\n"
"-- A late event (older than the newest) is judged by a scan of its own\n"
"-- window [t - within, t], as the in-memory store does for every event.\n"
"local function agg_of(fn, n, sum, pro, det, vkey)\n"
"  if fn == 'count' then return n end\n"
"  if fn == 'sum' then return sum end\n"
"  if fn == 'avg' then return n > 0 and sum / n or 0 end\n"
"  if fn == 'nps' then return n > 0 and 100 * (pro - det) / n or 0 end\n"
"  local r = redis.call('ZRANGE', vkey, fn == 'min' and 0 or -1, fn == 'min' and 0 or -1, 'WITHSCORES')\n"
"  return tonumber(r[2]) or 0\n"
"end\n"
"local function agg_apply(sk, vkey, m, x, sign, minmax)\n"
"  redis.call('HINCRBY', sk, 'n', sign)\n"
"  redis.call('HINCRBYFLOAT', sk, 'sum', sign * x)\n"
"  if x >= 9 then redis.call('HINCRBY', sk, 'pro', sign) elseif x <= 6 then redis.call('HINCRBY', sk, 'det', sign) end\n"
"  if minmax then\n"
"    if sign > 0 then redis.call('ZADD', vkey, x, m) else redis.call('ZREM', vkey, m) end\n"
"  end\n"
"end\n"
"local function agg_add(w, fn, within, m, x)\n"
"  local sk, vkey = w .. ':s', w .. ':v'\n"
"  local minmax = fn == 'min' or fn == 'max'\n"
"  local st = redis.call('HMGET', sk, 'lo', 'hi')\n"
"  local lo, hi = tonumber(st[1]), tonumber(st[2])\n"
"  if not hi then lo, hi = t - within, t; redis.call('HSET', sk, 'lo', fmt(lo), 'hi', fmt(hi)) end\n"
"  local new = redis.call('ZADD', w, fmt(t), m) == 1\n"
"  if new and t >= lo then agg_apply(sk, vkey, m, x, 1, minmax) end\n"
"  if t > hi then\n"
"    local nlo = t - within\n"
"    for _, old in ipairs(redis.call('ZRANGEBYSCORE', w, fmt(lo), '(' .. fmt(nlo))) do\n"
"      agg_apply(sk, vkey, old, tonumber(string.match(old, '|([^|]*)$')) or 0, -1, minmax)\n"
"    end\n"
"    lo, hi = nlo, t\n"
"    redis.call('HSET', sk, 'lo', fmt(lo), 'hi', fmt(hi))\n"
"    redis.call('ZREMRANGEBYSCORE', w, '-inf', '(' .. fmt(hi - 2 * within))\n"
"  end\n"
"  for _, k in ipairs({w, sk, vkey}) do redis.call('PEXPIRE', k, fmt(2 * within + 60000)) end\n"
"  if t == hi then\n"
"    local h = redis.call('HMGET', sk, 'n', 'sum', 'pro', 'det')\n"
"    local n = tonumber(h[1]) or 0\n"
"    return agg_of(fn, n, tonumber(h[2]) or 0, tonumber(h[3]) or 0, tonumber(h[4]) or 0, vkey), n\n"
"  end\n"
"  local mem = redis.call('ZRANGEBYSCORE', w, fmt(t - within), fmt(t))\n"
"  local n, sum, mn, mx, pro, det = #mem, 0, nil, nil, 0, 0\n"
"  for _, e in ipairs(mem) do\n"
"    local y = tonumber(string.match(e, '|([^|]*)$')) or 0\n"
"    sum = sum + y\n"
"    if mn == nil or y < mn then mn = y end\n"
"    if mx == nil or y > mx then mx = y end\n"
"    if y >= 9 then pro = pro + 1 elseif y <= 6 then det = det + 1 end\n"
"  end\n"
"  if fn == 'min' then return mn or 0, n end\n"
"  if fn == 'max' then return mx or 0, n end\n"
"  return agg_of(fn, n, sum, pro, det, vkey), n\n"
"end\n"
"local answers = {}\n"
"for ev_i = 1, nev do\n"
"entry, t, cust = ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2]\n"
"call, agent, queue, n = ARGV[i + 3], ARGV[i + 4], ARGV[i + 5], tonumber(ARGV[i + 6])\n"
"i = i + 7\n"
"local out, fired = {}, {}\n"
"for c = 1, n do\n"
"  local rule, sev, kind, key = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]\n"
"  local cooldown = tonumber(ARGV[i + 4])\n"
"  i = i + 5\n"
"  local cond, count, value, samples = false, -1, '', -1\n"
"  if kind == 'p' then\n"
"    cond = true\n"
"  elseif kind == 'c' then\n"
"    local within, atl = tonumber(ARGV[i]), tonumber(ARGV[i + 1])\n"
"    i = i + 2\n"
"    local w = P .. 'w:' .. rule .. ':' .. key\n"
"    window_add(w, entry, within)\n"
"    count = redis.call('ZCOUNT', w, fmt(t - within), fmt(t))\n"
"    cond = count == atl\n"
"  elseif kind == 'a' then\n"
"    local within, fn, mins = tonumber(ARGV[i]), ARGV[i + 1], tonumber(ARGV[i + 2])\n"
"    local hasnum, num, prog = ARGV[i + 3], ARGV[i + 4], ARGV[i + 5]\n"
"    i = i + 6\n"
"    if fn == 'count' or hasnum == '1' then\n"
"      local v, cnt = agg_add(P .. 'ag:' .. rule .. ':' .. key, fn, within,\n"
"        entry .. '|' .. num, tonumber(num) or 0)\n"
"      samples = cnt\n"
"      value = string.format('%.17g', v)\n"
"      cond = cnt >= mins and rpn(prog, v, cnt)\n"
"    end\n"
"  elseif kind == 'f' then\n"
"    local q, f, within, val = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), ARGV[i + 3]\n"
"    i = i + 4\n"
"    if val ~= '' then\n"
"      cond = redis.call('ZCOUNT', P .. 'af:' .. q .. ':' .. f .. ':' .. val,\n"
"        fmt(t - within), fmt(t)) > 0\n"
"    end\n"
"  end\n"
"  if cond and cooldown > 0 then\n"
"    local ck = P .. 'cd:' .. rule .. ':' .. key\n"
"    local last = redis.call('GET', ck)\n"
"    if last then\n"
"      local le, lt = string.match(last, '^(.*)|([^|]*)$')\n"
"      if le ~= entry and math.abs(t - tonumber(lt)) < cooldown then cond = false end\n"
"    end\n"
"    if cond then redis.call('SET', ck, entry .. '|' .. fmt(t), 'PX', fmt(2 * cooldown + 60000)) end\n"
"  end\n"
"  local nrem, remms = tonumber(ARGV[i]), tonumber(ARGV[i + 1])\n"
"  i = i + 2\n"
"  for j = 0, nrem - 1 do\n"
"    local f, v = ARGV[i + 2 * j], ARGV[i + 2 * j + 1]\n"
"    if cond and v ~= '' then window_add(P .. 'af:' .. rule .. ':' .. f .. ':' .. v, entry, remms) end\n"
"  end\n"
"  i = i + 2 * nrem\n"
"  local nsteps = tonumber(ARGV[i])\n"
"  local steps = {}\n"
"  for j = 0, nsteps - 1 do steps[#steps + 1] = {ARGV[i + 1 + 2 * j], ARGV[i + 2 + 2 * j]} end\n"
"  i = i + 1 + 2 * nsteps\n"
"  if cond then fired[#fired + 1] = {rule, sev, steps} end\n"
"  out[#out + 1] = cond and 1 or 0\n"
"  out[#out + 1] = count\n"
"  out[#out + 1] = value\n"
"  out[#out + 1] = samples\n"
"end\n"
"local id, opened, csev = '', 0, ''\n"
"if #fired > 0 and cust ~= '' then\n"
"  local sev = 'low'\n"
"  for _, f in ipairs(fired) do\n"
"    if (rank[f[2]] or 0) > rank[sev] then sev = f[2] end\n"
"  end\n"
"  local ok = P .. 'opencase:' .. cust\n"
"  id = redis.call('GET', ok)\n"
"  if id and redis.call('EXISTS', P .. 'case:' .. id) == 0 then id = nil end\n"
"  local mine = 'c-' .. entry\n"
"  if not id then\n"
"    id = mine\n"
"    redis.call('HSET', P .. 'case:' .. id, 'case_id', id, 'customer_id', cust,\n"
"      'state', 'open', 'severity', sev, 'opened_at', now_rfc, 'opened_ms', fmt(now),\n"
"      'rules', '', 'events', '', 'step', 0, 'acked_by', '', 'resolved_at', '',\n"
"      'call_id', call, 'agent_id', agent, 'queue', queue, 'entry', entry)\n"
"    redis.call('SET', ok, id)\n"
"    redis.call('ZADD', P .. 'cases', fmt(now), id)\n"
"    redis.call('ZADD', P .. 'cases:open', fmt(now), id)\n"
"  end\n"
"  if id == mine then opened = 1 end\n"
"  local ck = P .. 'case:' .. id\n"
"  local c = redis.call('HMGET', ck, 'severity', 'rules', 'events', 'state', 'opened_ms')\n"
"  csev = c[1] or 'low'\n"
"  if (rank[sev] or 0) > (rank[csev] or 0) then\n"
"    csev = sev\n"
"    redis.call('HSET', ck, 'severity', csev)\n"
"  end\n"
"  local ev = c[3] or ''\n"
"  if not string.find(',' .. ev .. ',', ',' .. entry .. ',', 1, true) then\n"
"    local have = ',' .. (c[2] or '') .. ','\n"
"    local rl = c[2] or ''\n"
"    for _, f in ipairs(fired) do\n"
"      if not string.find(have, ',' .. f[1] .. ',', 1, true) then\n"
"        rl = (rl == '' and f[1]) or (rl .. ',' .. f[1])\n"
"        have = have .. f[1] .. ','\n"
"      end\n"
"    end\n"
"    ev = (ev == '' and entry) or (ev .. ',' .. entry)\n"
"    -- The newest events only: the list is for people, not for replay.\n"
"    if #ev > 1024 then ev = string.sub(ev, string.find(ev, ',', #ev - 1024, true) + 1) end\n"
"    redis.call('HSET', ck, 'rules', rl, 'events', ev, 'updated_at', now_rfc)\n"
"  end\n"
"  -- Escalation runs once per case: a step joins the schedule unless one\n"
"  -- with the same delay and channels is there already.\n"
"  if c[4] == 'open' then\n"
"    local base = tonumber(c[5]) or now\n"
"    for _, f in ipairs(fired) do\n"
"      for j, st in ipairs(f[3]) do\n"
"        if redis.call('HSETNX', ck .. ':steps', st[1] .. '|' .. st[2], f[1] .. '|' .. j) == 1 then\n"
"          redis.call('ZADD', P .. 'escalations', fmt(base + tonumber(st[1])), id .. '|' .. f[1] .. '|' .. j)\n"
"        end\n"
"      end\n"
"    end\n"
"  end\n"
"end\n"
"table.insert(out, 1, csev)\n"
"table.insert(out, 1, opened)\n"
"table.insert(out, 1, id)\n"
"answers[#answers + 1] = out\n"
"end\n"
"return answers\n";

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
"local acked, written, errs, ids = 0, {}, {}, {}\n"
"-- Which entries of the batch are still pending for this consumer: one\n"
"-- range query (IDs are in stream order).\n"
"local first, last, j = nil, nil, i\n"
"for e = 1, n do\n"
"  if not first then first = ARGV[j] end\n"
"  last = ARGV[j]\n"
"  local ncmd = tonumber(ARGV[j + 1])\n"
"  j = j + 2\n"
"  for c = 1, ncmd do j = j + 1 + tonumber(ARGV[j]) end\n"
"end\n"
"local mine = {}\n"
"if first then\n"
"  for _, p in ipairs(redis.call('XPENDING', stream, group, first, last, n + 1000, me)) do\n"
"    mine[p[1]] = true\n"
"  end\n"
"end\n"
"for e = 1, n do\n"
"  local id, ncmd = ARGV[i], tonumber(ARGV[i + 1])\n"
"  i = i + 2\n"
"  local ok = true\n"
"  for c = 1, ncmd do\n"
"    local argc = tonumber(ARGV[i])\n"
"    if mine[id] and ok then\n"
"      local r = redis.pcall(unpack(ARGV, i + 1, i + argc))\n"
"      if type(r) == 'table' and r.err then\n"
"        ok = false\n"
"        errs[#errs + 1] = id .. ' ' .. r.err\n"
"      end\n"
"    end\n"
"    i = i + 1 + argc\n"
"  end\n"
"  if mine[id] and ok then\n"
"    ids[#ids + 1] = id\n"
"    written[#written + 1] = id\n"
"  end\n"
"end\n"
"for k = 1, #ids, 1000 do\n"
"  acked = acked + redis.call('XACK', stream, group, unpack(ids, k, math.min(k + 999, #ids)))\n"
"end\n"
"return {acked, written, errs}\n";

/*
 * esc_claim — ARGV: P, now_ms, limit, inflight_timeout_ms.
 * Moves due steps of open cases from P.."escalations" to
 * P.."escalations:inflight" (steps of acknowledged or resolved cases are
 * dropped), first putting back steps a daemon claimed but never committed
 * (it died). Housekeeping rides along: up to 16 IDs in P.."cases" older
 * than 31 days whose case hash has expired (resolved cases are kept 30
 * days) leave the index. Returns {{member, customer_id, call_id,
 * agent_id, queue, severity, entry}, ...}.
 */
const char script_esc_claim[] =
"#!lua\n"
"local P, now, limit, timeout = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])\n"
"local function fmt(x) return string.format('%.0f', x) end\n"
"local E, F = P .. 'escalations', P .. 'escalations:inflight'\n"
"for _, id in ipairs(redis.call('ZRANGEBYSCORE', P .. 'cases', '-inf', fmt(now - 31 * 86400000), 'LIMIT', 0, 16)) do\n"
"  if redis.call('EXISTS', P .. 'case:' .. id) == 0 then redis.call('ZREM', P .. 'cases', id) end\n"
"end\n"
"for _, m in ipairs(redis.call('ZRANGEBYSCORE', F, '-inf', fmt(now - timeout))) do\n"
"  redis.call('ZREM', F, m)\n"
"  redis.call('ZADD', E, fmt(now), m)\n"
"end\n"
"local out = {}\n"
"for _, m in ipairs(redis.call('ZRANGEBYSCORE', E, '-inf', fmt(now), 'LIMIT', 0, limit)) do\n"
"  redis.call('ZREM', E, m)\n"
"  local id = string.match(m, '^(.*)|[^|]*|[^|]*$')\n"
"  local c = redis.call('HMGET', P .. 'case:' .. (id or ''), 'state', 'customer_id',\n"
"    'call_id', 'agent_id', 'queue', 'severity', 'entry')\n"
"  if c[1] == 'open' then\n"
"    redis.call('ZADD', F, fmt(now), m)\n"
"    out[#out + 1] = {m, c[2] or '', c[3] or '', c[4] or '', c[5] or '', c[6] or '', c[7] or ''}\n"
"  end\n"
"end\n"
"return out\n";

/*
 * esc_commit — ARGV: P, now_rfc3339, nsteps, then per step: member,
 * ncmds, then per command: argc, arg1..argc.
 * A step's alerts are written only if this daemon still holds its claim
 * (removed from P.."escalations:inflight" here) and the case is still
 * open: so a step runs once, and not after an acknowledgement that came
 * while it was being rendered. The case's "step" becomes the highest step
 * run. Returns {{written members}, {"member error", ...}}.
 */
const char script_esc_commit[] =
"#!lua\n"
"local P, now_rfc = ARGV[1], ARGV[2]\n"
"local n, i = tonumber(ARGV[3]), 4\n"
"local written, errs = {}, {}\n"
"for e = 1, n do\n"
"  local m, ncmd = ARGV[i], tonumber(ARGV[i + 1])\n"
"  i = i + 2\n"
"  local id, rule, step = string.match(m, '^(.*)|([^|]*)|([^|]*)$')\n"
"  local ck = P .. 'case:' .. (id or '')\n"
"  local mine = redis.call('ZREM', P .. 'escalations:inflight', m) == 1\n"
"  if mine and redis.call('HGET', ck, 'state') ~= 'open' then mine = false end\n"
"  local ok = true\n"
"  for c = 1, ncmd do\n"
"    local argc = tonumber(ARGV[i])\n"
"    if mine and ok then\n"
"      local r = redis.pcall(unpack(ARGV, i + 1, i + argc))\n"
"      if type(r) == 'table' and r.err then ok = false; errs[#errs + 1] = m .. ' ' .. r.err end\n"
"    end\n"
"    i = i + 1 + argc\n"
"  end\n"
"  if mine then\n"
"    if (tonumber(redis.call('HGET', ck, 'step')) or 0) < tonumber(step) then\n"
"      redis.call('HSET', ck, 'step', step)\n"
"    end\n"
"    redis.call('HSET', ck, 'escalated_at', now_rfc)\n"
"    if ok then written[#written + 1] = m end\n"
"  end\n"
"end\n"
"return {written, errs}\n";
