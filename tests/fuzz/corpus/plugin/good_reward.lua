-- Fixture: a reward rule granting points for each held session.
return tandem.reward{
  name = "session-points", version = "1.0.0", api = 1,
  on = "session.held",
  grant = function(event, ctx)
    return { { person_id = event.subject_id, points = 10, reason = "session held" } }
  end,
}
