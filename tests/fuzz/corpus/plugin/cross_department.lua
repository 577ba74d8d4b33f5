--[[
cross_department: break silos with a stable matching across departments.

For programs whose goal is a network across the organization rather than a
specific skill. It uses the "stable" method (deferred acceptance, mentees
proposing): no mentor and mentee would both rather be with each other than
with whom they got, which participants tend to perceive as fair. What it
encodes:
  - never the same department, never a reporting chain, never a previous pair;
  - mentees rank mentors by what they can learn (topic fit, shared language,
    availability overlap; see prefer_mentee);
  - mentors rank mentees by how far they are from their own corner of the
    organization (another location, another generation) plus topic fit
    (prefer_mentor);
  - the stored score is the weighted sum below.
Example: tandem match run --program network --policy cross_department --dry-run
]]

return tandem.policy{
	name = "cross_department",
	version = "1.0.0",
	api = 1,
	description = "Stable matching across departments: mentees rank by learning, mentors by distance",
	method = "stable",
	forbid = {"same_department", "reporting_chain", "previously_paired"},
	weights = {topic_fit = 3, cross_location = 1, generation_gap = 0.5, shared_language = 1},
	prefer_mentee = function(mentor, mentee, f)
		return 3 * f.topic_fit + f.shared_language + f.availability_overlap
	end,
	prefer_mentor = function(mentor, mentee, f)
		local g = f.generation_gap
		if g < 0 then g = -g end
		return f.cross_location + g + f.topic_fit
	end,
}
