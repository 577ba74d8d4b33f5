-- Fixture: a reward rule granting points to both sides of each held session.
return tandem.reward{
  name = "session-points", version = "1.0.0", api = 1,
  on = {
    ["session.held"] = function(ev, ctx)
      local m = ev.match
      return {
        { person_id = m.mentor_id, points = 10, reason = "session held" },
        { person_id = m.mentee_id, points = 10, reason = "session held" },
      }
    end,
  },
}
