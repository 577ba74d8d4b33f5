--[[
reciprocal: both sides teach.

Each pair trades knowledge: the junior mentor teaches what the senior wants
(digital topics, culture) and the senior teaches back what the junior wants
(leadership, strategy, negotiation, ...). What it encodes:
  - the usual guards: no reporting chain, no previous pairing, not the same team;
  - the built-in topic_fit measures the mentor -> mentee direction;
  - the Lua score measures the mentee -> mentor direction (what the mentee
    offers against what the mentor wants) and rewards pairs where BOTH
    directions are covered: score = 4 * reverse_fit + 2 * min(fit, reverse_fit);
  - mentors with nothing they want to learn are not penalized beyond missing
    the reverse bonus.
Example: tandem match compare --program exchange --policy reciprocal --policy digital_upskilling
]]

-- Sets of topics per person, computed once per person table.
local sets = setmetatable({}, {__mode = "k"})

local function set_of(person, field)
	local cache = sets[person]
	if cache == nil then
		cache = {}
		sets[person] = cache
	end
	local s = cache[field]
	if s == nil then
		s = {n = 0}
		for _, t in ipairs(person[field]) do
			if not s[t] then
				s[t] = true
				s.n = s.n + 1
			end
		end
		cache[field] = s
	end
	return s
end

local function reverse_fit(mentor, mentee)
	local wanted = set_of(mentor, "topics_wanted")
	if wanted.n == 0 then return 0 end
	local offered = set_of(mentee, "topics_offered")
	local hits = 0
	for t in pairs(wanted) do
		if t ~= "n" and offered[t] then hits = hits + 1 end
	end
	return hits / wanted.n
end

return tandem.policy{
	name = "reciprocal",
	version = "1.0.0",
	api = 1,
	description = "Both sides teach: topic fit in both directions",
	method = "optimal",
	forbid = {"reporting_chain", "same_team", "previously_paired"},
	weights = {topic_fit = 4, shared_language = 1, availability_overlap = 1, tz_distance = -1},
	score = function(mentor, mentee, f)
		local back = reverse_fit(mentor, mentee)
		local both = f.topic_fit < back and f.topic_fit or back
		return 4 * back + 2 * both
	end,
}
