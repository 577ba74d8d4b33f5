-- Fixture: a workspace policy using every hook of the optimal method: mentors
-- in the "it" department take one more mentee, and pairs in the same
-- location get a Lua bonus.
return tandem.policy{
  name = "policy_custom", version = "0.1.0", api = 1,
  description = "test policy: capacity and score hooks",
  forbid = { "reporting_chain", "previously_paired" },
  require = { level_gap = { min = 0 } },
  weights = { topic_fit = 4, shared_language = 1, tz_distance = -1 },
  capacity = function(mentor)
    if mentor.department == "Engineering" then return mentor.capacity + 1 end
    return mentor.capacity
  end,
  score = function(mentor, mentee, f)
    if mentor.location ~= nil and mentor.location == mentee.location then return 0.5 end
    return 0
  end,
}
