-- Fixture: behaves differently on each load (its description carries the CPU
-- clock of the process that loaded it) and hangs inside C in a hook, so its
-- worker is killed and the file loaded again: the host refuses a declaration
-- that changed, or reports the kill; it never loads the file itself.
local t0 = os.clock()
while os.clock() - t0 < 0.005 do end
return tandem.policy{
  name = "per_load", version = "1.0.0", api = 1,
  description = string.format("loaded at %.9f", os.clock() + os.time() % 7),
  limits = { deadline_ms = 400 },
  weights = { topic_fit = 1 },
  capacity = function(mentor)
    return string.find(string.rep("a", 60000), ".-.-.-.-.-b") or 1
  end,
  score = function(mentor, mentee, f) return 0.5 end,
}
