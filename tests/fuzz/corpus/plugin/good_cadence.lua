-- Fixture: a cadence plugin that plans a session every two weeks, in the mentee's zone.
return tandem.cadence{
  name = "biweekly", version = "0.1.0", api = 1,
  plan = function(match, ctx)
    local first = tandem.time.add(ctx.now, 7, "days", match.mentee.timezone)
    return {
      { starts_at = tandem.time.format(first), duration_min = 45 },
      { starts_at = tandem.time.format(tandem.time.add(first, 2, "weeks", match.mentee.timezone)), duration_min = 45 },
    }
  end,
}
