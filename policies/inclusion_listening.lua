--[[
inclusion_listening: leaders hear from colleagues of other backgrounds,
generations and locations.

Mentees are leaders (the mentor must be at least two levels below); mentors are
colleagues who volunteer to share their experience of inclusion and culture
(inclusive language, neurodiversity, accessibility, Gen Z culture, ...). The point
is distance: what it encodes:
  - never within a reporting chain, never the same department, never a pair
    that already met;
  - a strong weight on generation gap (younger mentors for older leaders), on
    another location and another department; topic fit still matters, a shared
    language is needed in practice, far time zones cost a little;
  - the Lua score adds a bonus when the mentor offers inclusion or culture
    topics, and when the mentor works in another location AND another
    generation (the two kinds of distance together).
Example: tandem match run --program listening-2027 --policy inclusion_listening --explain --dry-run
]]

local INCLUSION = {
	inclusive_language = true, neurodiversity = true, lgbtq_inclusion = true,
	accessibility = true, gen_z_culture = true, remote_work_culture = true,
	wellbeing = true, sustainability = true,
}

local inclusion_offered = setmetatable({}, {__mode = "k"})

local function count_inclusion(person)
	local n = inclusion_offered[person]
	if n == nil then
		n = 0
		for _, t in ipairs(person.topics_offered) do
			if INCLUSION[t] then n = n + 1 end
		end
		inclusion_offered[person] = n
	end
	return n
end

return tandem.policy{
	name = "inclusion_listening",
	version = "1.0.0",
	api = 1,
	description = "Leaders hear from colleagues of other backgrounds, generations and locations",
	method = "optimal",
	forbid = {"reporting_chain", "same_department", "previously_paired"},
	require = {level_gap = {min = 2}},
	weights = {
		generation_gap = 3, cross_location = 2, cross_department = 1, topic_fit = 3,
		shared_language = 2, tz_distance = -1.5,
	},
	score = function(mentor, mentee, f)
		local n = count_inclusion(mentor)
		if n > 3 then n = 3 end
		local s = 0.3 * n
		if f.cross_location > 0 and f.generation_gap > 0 then
			s = s + 0.5
		end
		return s
	end,
}
