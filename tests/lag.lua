-- lag.lua: entries of stream KEYS[1] that group ARGV[1] has not read yet
-- (-1: no such group). Counted from the group's last-delivered-id, because
-- XINFO's own "lag" is nil whenever Redis cannot compute it (after an AOF
-- reload, for example). Used by tests/lib.sh and tests/report_month.py.
local id
for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  local name, last
  for i = 1, #g, 2 do
    if g[i] == 'name' then name = g[i + 1] end
    if g[i] == 'last-delivered-id' then last = g[i + 1] end
  end
  if name == ARGV[1] then id = last end
end
if not id then return -1 end
return #redis.call('XRANGE', KEYS[1], '(' .. id, '+')
