local topics = { "ai_tools", "leadership" }
workspace { organization = "O", timezone = "Asia/Tokyo" }
program { name = 'a', topics = topics, starts = "2027-01-01", ends = "2027-12-31" }
program { name = 'b', goals = { "g" }, time_commitment = { sessions_per_month = 1, minutes_per_session = 30 } }
