-- taper: weekly for the first four weeks after the pair is activated, while the two get to
-- know each other, then every two weeks. It returns two rule segments; the planner fills the
-- weekday and hour of each from the pair's shared slots and clips them to the planning window.
return tandem.cadence{
  name = "taper",
  version = "1.0.0",
  api = 1,
  description = "Weekly for the first four weeks after activation, then every two weeks.",
  zone = "pair",
  plan = function(pair, history, ctx)
    local start = pair.activated or ctx.now
    local switch = tandem.time.add(start, 4, "weeks", pair.zone)
    return {
      { rule = "FREQ=WEEKLY", from = start, ["until"] = switch },
      { rule = "FREQ=WEEKLY;INTERVAL=2", from = switch },
    }
  end,
}
