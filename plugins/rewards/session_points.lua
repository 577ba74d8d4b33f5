-- session_points: 10 points to each side of a pair for every session held.
-- The grant's key is the event's (one held session, one grant per side, whatever happens
-- to the event's redelivery).
return tandem.reward{
  name = "session_points",
  version = "1.0.0",
  api = 1,
  description = "10 points to the mentor and the mentee for each held session.",
  on = {
    ["session.held"] = function(ev, ctx)
      local m = ev.match
      if not m then return nil end
      return {
        { person_id = m.mentor_id, points = 10, reason = "session held" },
        { person_id = m.mentee_id, points = 10, reason = "session held" },
      }
    end,
  },
}
