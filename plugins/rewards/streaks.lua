-- streaks: a badge for 3, 6 and 12 consecutive sessions held by a pair, to both sides.
-- The streak is counted over the pair's sessions up to the one just held, oldest first:
-- cancelled and rescheduled sessions neither count nor break it; a missed one breaks it.
-- Each badge is given once per pair and person (its own key), however late the event
-- is delivered.
local LEVELS = { 3, 6, 12 }

local function streak_at(sessions, session_id)
  local n = 0
  for _, s in ipairs(sessions) do
    if s.status == "held" then
      n = n + 1
    elseif s.status == "missed" then
      n = 0
    end
    if s.id == session_id then return n end
  end
  return 0
end

return tandem.reward{
  name = "streaks",
  version = "1.0.0",
  api = 1,
  description = "Badges streak-3, streak-6, streak-12 for consecutive held sessions.",
  on = {
    ["session.held"] = function(ev, ctx)
      local m = ev.match
      if not m or not m.sessions then return nil end
      local n = streak_at(m.sessions, ev.payload.session)
      local grants = {}
      for _, level in ipairs(LEVELS) do
        if n >= level then
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
