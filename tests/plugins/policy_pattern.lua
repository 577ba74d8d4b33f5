-- Fixture (tandem match run): a catastrophic pattern; the hang is inside C
-- (string.find), where no instruction count runs: only the watchdog stops it.
return tandem.policy{
  name = "policy_pattern", version = "1.0.0", api = 1,
  weights = { topic_fit = 1 },
  score = function(mentor, mentee, f)
    return string.find(string.rep("a", 60000), ".-.-.-.-.-b") or 0
  end,
}
