-- after_miss: every two weeks, but after a missed session the pair meets again one week
-- later (same weekday and wall time), and the two-week rhythm restarts from that make-up
-- session. The planner cancels the planned sessions of the old rhythm that no longer fit.
return tandem.cadence{
  name = "after_miss",
  version = "1.0.0",
  api = 1,
  description = "Every two weeks; one week after a missed session, then every two weeks from there.",
  zone = "pair",
  plan = function(pair, history, ctx)
    local start = pair.activated or ctx.now
    local missed
    for _, s in ipairs(history) do
      if s.status == "missed" and (missed == nil or s.start > missed) then
        missed = s.start
      end
    end
    if missed == nil then
      return { { rule = "FREQ=WEEKLY;INTERVAL=2", from = start } }
    end
    local again = tandem.time.add(missed, 1, "weeks", pair.zone)
    return {
      { rule = "FREQ=WEEKLY;INTERVAL=2", from = start, ["until"] = missed + 1 },
      { start = again },
      { rule = "FREQ=WEEKLY;INTERVAL=2", from = tandem.time.add(again, 2, "weeks", pair.zone) },
    }
  end,
}
