-- tandem.lua: the workspace configuration of one client.
--
-- This file is Lua 5.4, read in a sandbox (no io, no os, no require): it may
-- compute values, but it cannot touch files or the network. It declares the
-- workspace with workspace{...} and each mentoring program with program{...}.
-- `tandem programs list` shows what tandem read from it.

workspace {
  organization = "Example Corp",
  -- Default zone for people and schedules that do not name one (IANA name).
  timezone = "Europe/Paris",
}

program {
  -- Identifier used on the command line: tandem match run --program digital-2027
  name = "digital-2027",
  title = "Digital reverse mentoring 2027",
  description = "Early-career colleagues coach senior leaders on digital tools and culture.",
  starts = "2027-01-11",
  ends = "2027-06-30",
  goals = {
    "Every executive uses an AI assistant weekly by June",
    "Senior leaders hear first-hand how early-career colleagues work",
  },
  -- Topics this program covers, in both directions: what early-career mentors
  -- teach (digital, culture) and what senior mentees teach back. Enrollments may
  -- name other topics; the importer warns about them. A topic may carry the
  -- questions its sessions' agendas suggest, three a session, the next ones the
  -- next time: { name = "...", questions = { "...", ... } }.
  topics = {
    { name = "ai_tools", questions = {
        "Which task did an AI assistant do for you this week, and how well?",
        "Where would you not trust an assistant's answer, and why?",
        "Write one prompt together for a task you do every week.",
        "What would make your team try it?",
    } },
    "genai_prompting", "data_literacy", "social_media", "collaboration_tools",
    "cybersecurity", "mobile_first", "automation", "digital_marketing",
    "inclusive_language", "neurodiversity", "lgbtq_inclusion", "accessibility",
    "gen_z_culture", "remote_work_culture", "wellbeing", "sustainability",
    "leadership", "strategy", "company_history", "stakeholder_management", "negotiation",
    "career_planning", "executive_presence", "finance_basics", "public_speaking",
  },
  -- What each pair commits to.
  time_commitment = { sessions_per_month = 2, minutes_per_session = 45 },
  -- Matching policy (a file in policies/ or a built-in name).
  policy = "digital_upskilling",
  -- Session cadence: a built-in (weekly, biweekly, monthly, taper: weekly for
  -- four weeks then biweekly, after_miss: biweekly but a week after a missed
  -- session) or a plugin of your own in plugins/cadences/ (`tandem plugins new
  -- cadence NAME`). Unset: derived from sessions_per_month (1 monthly, 2
  -- biweekly, 4 weekly). `tandem programs check` says when a policy or cadence
  -- named here does not exist.
  cadence = "biweekly",
}
