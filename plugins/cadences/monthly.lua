-- monthly: one session a month. The planner takes the weekday and hour of the pair's first
-- shared slot and keeps its place in the month (the second Tuesday, say; a slot in the fifth
-- week becomes the month's last such weekday, which every month has).
return tandem.cadence{
  name = "monthly",
  version = "1.0.0",
  api = 1,
  description = "Once a month, on the same weekday of the month, at the pair's first shared slot.",
  rule = "FREQ=MONTHLY",
  zone = "pair",
}
