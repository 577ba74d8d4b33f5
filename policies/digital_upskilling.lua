--[[
digital_upskilling: juniors teach seniors digital topics.

The classic reverse-mentoring program. Mentors are the juniors who enrolled to
teach (AI tools, prompting, data literacy, social media, ...); mentees are the
seniors who want to learn. What it encodes:
  - the mentor must be at least one level below the mentee (level_gap >= 1) and
    must cover at least one topic the mentee asked for (topic_fit > 0);
  - nobody mentors their own (direct or transitive) manager or report, a
    teammate, or someone they were already paired with;
  - the weighted sum favours topic coverage first, then a larger level gap,
    other departments, a shared language, availability overlap and nearby time
    zones;
  - the Lua score adds a bonus for senior mentees (level 6 and up) with a good
    fit, and for mentors who offer several digital topics (the experts).
Example: tandem match run --program digital-2027 --policy digital_upskilling --dry-run
]]

local DIGITAL = {
	ai_tools = true, genai_prompting = true, data_literacy = true, social_media = true,
	collaboration_tools = true, cybersecurity = true, mobile_first = true,
	automation = true, digital_marketing = true,
}

-- Person tables are built once per run, so counting once per mentor is enough.
local digital_offered = setmetatable({}, {__mode = "k"})

local function count_digital(person)
	local n = digital_offered[person]
	if n == nil then
		n = 0
		for _, t in ipairs(person.topics_offered) do
			if DIGITAL[t] then n = n + 1 end
		end
		digital_offered[person] = n
	end
	return n
end

return tandem.policy{
	name = "digital_upskilling",
	version = "1.0.0",
	api = 1,
	description = "Juniors teach seniors digital topics (AI tools, data, social media, ...)",
	method = "optimal",
	forbid = {"reporting_chain", "same_team", "previously_paired"},
	require = {level_gap = {min = 1}, topic_fit = {min = 0.01}},
	weights = {
		topic_fit = 6, level_gap = 1, cross_department = 0.5, shared_language = 1,
		availability_overlap = 1, tz_distance = -1,
	},
	score = function(mentor, mentee, f)
		local bonus = 0
		if (mentee.level or 0) >= 6 then
			bonus = 0.5 * f.topic_fit
		end
		local n = count_digital(mentor)
		if n > 3 then n = 3 end
		return bonus + 0.1 * n
	end,
}
