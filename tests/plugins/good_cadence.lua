-- Fixture: a cadence plugin that plans a first session a week after activation, then a
-- rule segment every two weeks, in the pair's zone.
return tandem.cadence{
  name = "biweekly", version = "0.1.0", api = 1,
  plan = function(pair, history, ctx)
    local first = tandem.time.add(pair.activated or ctx.now, 7, "days", pair.zone)
    return {
      { start = first, duration = 45 },
      { rule = "FREQ=WEEKLY;INTERVAL=2", from = tandem.time.add(first, 2, "weeks", pair.zone) },
    }
  end,
}
