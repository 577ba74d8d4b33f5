-- Fixture: a catastrophic pattern: hangs inside C, killed by the worker deadline.
return tandem.policy{
  name = "pattern", version = "1.0.0", api = 1,
  score = function(mentor, mentee, features)
    return string.find(string.rep("a", 50000), ".-.-.-.-b")
  end,
}
