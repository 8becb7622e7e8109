-- Helper: the number of active admins, not counting the users in ``skip`` (a set).
local function active_admins(p, users_set, skip)
  local n = 0
  for _, uid in ipairs(redis.call('SMEMBERS', users_set)) do
    if not skip[uid] then
      local u = redis.call('HMGET', K.user(p, uid), 'role', 'state')
      if u[1] == ROLE.ADMIN and u[2] == STATE.ACTIVE then n = n + 1 end
    end
  end
  return n
end
