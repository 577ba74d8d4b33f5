/*
 * program/session_reveal: the rating-visibility rule, in one place for every reader.
 *
 * A side's rating of a session is hidden from the other side and from every other viewer
 * (organizers, reports, reward rules) until both sides have rated it or the window
 * closes, SESSION_REVEAL_DAYS after the session's end. The readers: sched/session_list
 * (a session as a viewer sees it), report/metrics (ratings aggregated in SQL) and
 * rewards/dispatch (ev.match.ratings). It sits in program/ because rewards/ is below
 * sched/ and both need it. Header only: a constant and an SQL expression.
 */
#ifndef TANDEM_PROGRAM_SESSION_REVEAL_H
#define TANDEM_PROGRAM_SESSION_REVEAL_H

/* Days after a session's end when its ratings become visible to everyone. */
#define SESSION_REVEAL_DAYS 7
#define SESSION_STR_(x) #x
#define SESSION_STR(x) SESSION_STR_(x)

/*
 * The rule as one SQL expression: true when both sides of session S have rated (FR and
 * FE are the mentor's and the mentee's feedback rows, LEFT JOINed: NULL when absent) or
 * when NOW (an SQL expression in Unix seconds, usually a bound parameter) is at or after
 * the session's end + SESSION_REVEAL_DAYS days. The arguments are SQL aliases, pasted as
 * text.
 */
#define SESSION_REVEALED_SQL(S, FR, FE, NOW)                                                       \
	"((" FR ".rating IS NOT NULL AND " FE ".rating IS NOT NULL) OR " NOW " >= "               \
	"CAST(strftime('%s', " S ".starts_at) AS INTEGER) + 60 * " S ".duration_min + "            \
	"86400 * " SESSION_STR(SESSION_REVEAL_DAYS) ")"

#endif
