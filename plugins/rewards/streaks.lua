-- streaks: a badge for 3, 6 and 12 consecutive sessions held by a pair, to both sides.
-- The streak is counted over the pair's sessions up to the one just held, oldest first:
-- cancelled and rescheduled sessions neither count nor break it; a missed one breaks it.
-- Each badge is given once per pair and person (its own key), however late the event
-- is delivered.
--
-- A badge is returned at the event where it is reached, not again at every later session
-- of the streak (the key would ignore the repeats, but each costs the ledger a lookup).
-- "Reached" must hold for sessions recorded out of order too (a side checks in last week's
-- session after this week's, or a missed one is corrected to held): at a streak of n > level,
-- the badge is returned again unless the level-th held session of the streak was recorded
-- after all the held ones before it and well before this event (status_at, whole seconds).
-- Then that session's own event came earlier and saw a streak of at least `level` (held
-- stays held, and a session that is not missed now never was), so the badge was returned
-- there or before: the ledger is the one the rule that returned every reached badge made.
local LEVELS = { 3, 6, 12 }
local IS_LEVEL = { [3] = true, [6] = true, [12] = true }

-- For each of a pair's sessions, oldest first: the streak at it, and for each level it
-- reaches, the status_at of the streak's level-th held session when that one was recorded
-- strictly after every held one before it (false otherwise). One pass; status_at is
-- "YYYY-MM-DDTHH:MM:SSZ", ordered as text. byid[session id] = { n, at }.
local function scan_all(sessions)
  local byid = {}
  local n, latest, at = 0, nil, {}
  for _, s in ipairs(sessions) do
    local st = s.status
    if st == "held" then
      n = n + 1
      if n <= 12 then
        local t = s.status_at
        if type(t) ~= "string" then t = "~" end -- unknown: nothing after it is in order
        if IS_LEVEL[n] then at[n] = t ~= "~" and (latest == nil or latest < t) and t end
        if latest == nil or t > latest then latest = t end
      end
    elseif st == "missed" then
      n, latest, at = 0, nil, {}
    end
    byid[s.id] = { n, { [3] = at[3], [6] = at[6], [12] = at[12] } }
  end
  return byid
end

-- ev.match is the dispatch run's read-only snapshot of the match: the same table for
-- every event of the run, never changed (a later run sends a new one). So a pair's scan
-- is made once per run, not once per event (k sessions cost k, not k^2/2). Weak keys: a
-- snapshot the run let go is collected with its scan.
local scans = setmetatable({}, { __mode = "k" })

-- The streak at session_id and its levels' status_at (see scan_all).
local function scan(m, session_id)
  local byid = scans[m]
  if byid == nil then
    byid = scan_all(m.sessions)
    scans[m] = byid
  end
  local r = byid[session_id]
  if r == nil then return 0, {} end
  return r[1], r[2]
end

-- Seconds since 1970 of "YYYY-MM-DDTHH:MM:SSZ" (nil when it is not that).
local function epoch(iso)
  if type(iso) ~= "string" then return nil end
  local y, mo, d, h, mi, s = iso:match("^(%d%d%d%d)-(%d%d)-(%d%d)T(%d%d):(%d%d):(%d%d)Z$")
  if not y then return nil end
  y, mo = tonumber(y), tonumber(mo)
  if mo <= 2 then y = y - 1 end
  local era = y // 400
  local yoe = y - era * 400
  local doy = (153 * (mo + (mo > 2 and -3 or 9)) + 2) // 5 + tonumber(d) - 1
  local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
  return (era * 146097 + doe - 719468) * 86400 + tonumber(h) * 3600 + tonumber(mi) * 60
    + tonumber(s)
end

-- Whether the level's badge was certainly returned at an earlier event: the level-th held
-- session was recorded in order (at[level]) and at least 2 s before this event (its own
-- event, appended a moment after its status, then precedes this one).
local function reached_before(at, level, ev_at)
  local t = at[level] and epoch(at[level]) or nil
  return t ~= nil and ev_at ~= nil and t + 2 <= ev_at
end

return tandem.reward{
  name = "streaks",
  version = "1.2.0",
  api = 1,
  description = "Badges streak-3, streak-6, streak-12 for consecutive held sessions.",
  on = {
    ["session.held"] = function(ev, ctx)
      local m = ev.match
      if not m or not m.sessions then return nil end
      local n, at = scan(m, ev.payload.session)
      local ev_at = n > 3 and epoch(ev.at) or nil
      local grants = {}
      for _, level in ipairs(LEVELS) do
        if n == level or (n > level and not reached_before(at, level, ev_at)) then
          for _, who in ipairs({ m.mentor_id, m.mentee_id }) do
            grants[#grants + 1] = {
              person_id = who,
              badge = "streak-" .. level,
              reason = level .. " sessions in a row",
              key = "streak-" .. level .. ":" .. m.id .. ":" .. who,
            }
          end
        end
      end
      return grants
    end,
  },
}
