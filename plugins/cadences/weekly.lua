-- weekly: one session a week. The rule leaves the weekday and the hour open, so the planner
-- takes them from the pair's first shared slot (both people's availability, inside their own
-- working hours) on or after the pair's activation, and keeps that slot every week, at the
-- same wall time in the pair's zone across DST changes.
return tandem.cadence{
  name = "weekly",
  version = "1.0.0",
  api = 1,
  description = "Every week, at the pair's first shared slot, in the pair's zone.",
  rule = "FREQ=WEEKLY",
  zone = "pair",
}
