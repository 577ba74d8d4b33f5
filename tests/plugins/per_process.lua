-- Fixture: at load time, hangs only in a process that has already used CPU time
-- (os.clock() > 0.2 s) -- as the host has, after scoring or loading -- and fails
-- its hook in any other. Loaded only in fresh worker processes, it never hangs.
if os.clock() > 0.2 then
  while true do string.find(string.rep("a", 60000), ".-.-.-.-.-b") end
end
return tandem.policy{
  name = "per_process", version = "1.0.0", api = 1,
  weights = { topic_fit = 1 },
  score = function(mentor, mentee, f)
    error(string.format("refusing to score in a fresh process (clock %.1f)", os.clock() * 0))
  end,
}
