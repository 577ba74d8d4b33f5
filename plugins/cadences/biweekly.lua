-- biweekly: one session every two weeks, the default cadence of a program that asks for two
-- sessions a month. Weekday and hour come from the pair's first shared slot (see weekly.lua);
-- the two-week phase starts at the pair's activation, so planning again never shifts it.
return tandem.cadence{
  name = "biweekly",
  version = "1.0.0",
  api = 1,
  description = "Every two weeks, at the pair's first shared slot, in the pair's zone.",
  rule = "FREQ=WEEKLY;INTERVAL=2",
  zone = "pair",
}
