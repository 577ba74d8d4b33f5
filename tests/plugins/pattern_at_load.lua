-- Fixture: a catastrophic pattern at load time (top-level chunk), killed by the worker.
local hit = string.find(string.rep("a", 50000), ".-.-.-.-b")
return tandem.policy{ name = "pattern-at-load", version = "1.0.0", api = 1,
  score = function() return hit end }
