-- Fixture: a well-behaved policy. Uses the time helpers, local functions, pcall.
local function bonus(mentor, mentee)
  if mentor.generation ~= mentee.generation then return 0.25 end
  return 0
end

return tandem.policy{
  name = "good-policy",
  version = "1.2.0",
  api = 1,
  description = "A test policy that prefers topic fit across generations.",
  score = function(mentor, mentee, features)
    local ok, t = pcall(tandem.time.parse, "2023-09-01")
    assert(ok and t > 0 and mentor.generation)
    return features.topic_fit * 2 + bonus(mentor, mentee)
  end,
  capacity = function(mentor)
    return mentor.capacity
  end,
}
