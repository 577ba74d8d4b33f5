/*
 * genorg: synthetic organizations and sign-up surveys. See genorg.h for the contract.
 *
 * The org is grown breadth-first from the CEO. Each person is created with the
 * number of descendants their subtree must hold; when their turn in the queue
 * comes, that number is split among their direct reports. Nobody below the CEO
 * gets more than 10 reports, and each level caps how many descendants it may
 * hold (gen_cap) so that a span of 10 all the way down always suffices. This is
 * why the people array itself serves as the BFS queue and every manager has a
 * smaller index than their reports.
 *
 * Attributes that depend on the hierarchy (department, area, team, location)
 * are inherited with some noise; personal ones (name, age, skills, languages)
 * are drawn when the person is created. All draws come from one PRNG stream in
 * creation order, so the output depends only on (people, seed).
 */
#include "program/genorg.h"

#include <stdlib.h>
#include <string.h>

#include "program/people.h"

_Static_assert(GENORG_GEN_Z == PEOPLE_NGENERATIONS - 1, "genorg's generations are people's, in order");

/* The fixed "today" of every generated org, so output never depends on the clock. */
enum { AS_OF_YEAR = 2026 };

/* ---------------------------------------------------------------- PRNG */

/* xoshiro256** seeded through splitmix64: fast, well tested, same on every platform. */
struct rng {
	uint64_t s[4];
};

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void
rng_seed(struct rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t
rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

/* Uniform in [0, n), n > 0, without modulo bias (Lemire's multiply-and-reject). */
static uint32_t
rng_below(struct rng *r, uint32_t n)
{
	uint64_t m = (rng_next(r) >> 32) * (uint64_t)n;
	uint32_t low = (uint32_t)m;
	if (low < n) {
		uint32_t floor = (uint32_t)(-n) % n;
		while (low < floor) {
			m = (rng_next(r) >> 32) * (uint64_t)n;
			low = (uint32_t)m;
		}
	}
	return (uint32_t)(m >> 32);
}

/* True with probability pct/100. */
static int
rng_pct(struct rng *r, uint32_t pct)
{
	return rng_below(r, 100) < pct;
}

/* Index drawn with the given integer weights (at least one positive). */
static int
rng_pick(struct rng *r, const uint16_t *w, int n)
{
	uint32_t total = 0;
	for (int i = 0; i < n; i++)
		total += w[i];
	uint32_t x = rng_below(r, total);
	for (int i = 0; i < n; i++) {
		if (x < w[i])
			return i;
		x -= w[i];
	}
	return n - 1;
}

/* ---------------------------------------------------------------- vocabulary */

const char *const genorg_columns[GENORG_NCOLS] = {
    "id",	 "name",     "email",	 "title",	  "level",	"department",
    "team",	 "location", "timezone", "manager",	  "birth_year", "generation",
    "hire_date", "status",   "skills",	 "topics_wanted", "languages",
};

const char *const genorg_survey_columns[GENORG_SURVEY_NCOLS] = {
    "person", "role", "capacity", "topics_offered", "topics_wanted", "availability", "consent",
};

struct topic {
	const char *name;
	uint8_t kind;
	uint8_t weight; /* popularity within its kind */
};

/* The vocabulary shared with the matching policies: names must not change. */
static const struct topic topics[GENORG_NTOPICS] = {
    {"ai_tools", GENORG_DIGITAL, 20},
    {"genai_prompting", GENORG_DIGITAL, 18},
    {"data_literacy", GENORG_DIGITAL, 12},
    {"social_media", GENORG_DIGITAL, 12},
    {"collaboration_tools", GENORG_DIGITAL, 10},
    {"cybersecurity", GENORG_DIGITAL, 8},
    {"mobile_first", GENORG_DIGITAL, 7},
    {"automation", GENORG_DIGITAL, 8},
    {"digital_marketing", GENORG_DIGITAL, 5},
    {"inclusive_language", GENORG_INCLUSION, 14},
    {"neurodiversity", GENORG_INCLUSION, 10},
    {"lgbtq_inclusion", GENORG_INCLUSION, 10},
    {"accessibility", GENORG_INCLUSION, 12},
    {"gen_z_culture", GENORG_INCLUSION, 16},
    {"remote_work_culture", GENORG_INCLUSION, 14},
    {"wellbeing", GENORG_INCLUSION, 14},
    {"sustainability", GENORG_INCLUSION, 10},
    {"leadership", GENORG_SENIOR, 18},
    {"strategy", GENORG_SENIOR, 14},
    {"company_history", GENORG_SENIOR, 8},
    {"stakeholder_management", GENORG_SENIOR, 12},
    {"negotiation", GENORG_SENIOR, 10},
    {"career_planning", GENORG_SENIOR, 14},
    {"executive_presence", GENORG_SENIOR, 8},
    {"finance_basics", GENORG_SENIOR, 8},
    {"public_speaking", GENORG_SENIOR, 8},
};

#define T(name) (1u << (name))
/* clang-format off */
enum {
	AI_TOOLS, GENAI, DATA_LIT, SOCIAL, COLLAB, CYBER, MOBILE, AUTOMATION, DIGI_MKT,
	INCL_LANG, NEURO, LGBTQ, ACCESS, GENZ, REMOTE, WELLBEING, SUSTAIN,
	LEADERSHIP, STRATEGY, HISTORY, STAKEHOLDER, NEGOTIATION, CAREER, EXEC_PRES, FINANCE, SPEAKING,
};
/* clang-format on */

struct department {
	const char *name;  /* the department column */
	const char *mgmt;  /* in manager titles: "Engineering Manager", "VP of Engineering" */
	const char *ic;	   /* individual contributor role: "Software Engineer" */
	uint16_t weight;   /* share of headcount */
	uint32_t affinity; /* topics three times as likely in this department */
	const char *areas[10];
};

enum { NDEPT = 10, DEPT_EXEC = 10, NDEPT_ALL = 11, MAX_AREAS = 10 };

/* Ordered by weight: small orgs keep only the first few departments. */
static const struct department departments[NDEPT_ALL] = {
    {"Engineering",
     "Engineering",
     "Software Engineer",
     280,
     T(AI_TOOLS) | T(AUTOMATION) | T(CYBER) | T(GENAI),
     {"Platform", "Payments", "Mobile", "Search", "Infrastructure", "Security", "Developer Tools",
      "Identity", "Growth", "Cloud"}},
    {"Sales",
     "Sales",
     "Account Executive",
     150,
     T(NEGOTIATION) | T(SOCIAL) | T(STAKEHOLDER) | T(SPEAKING),
     {"Enterprise", "Mid-Market", "Small Business", "Public Sector", "Channel Partners",
      "Sales Development", "Strategic Accounts"}},
    {"Customer Success",
     "Customer Success",
     "Customer Success Specialist",
     110,
     T(COLLAB) | T(REMOTE) | T(STAKEHOLDER),
     {"Onboarding", "Support", "Account Management", "Renewals", "Customer Education",
      "Technical Support"}},
    {"Operations",
     "Operations",
     "Operations Analyst",
     100,
     T(AUTOMATION) | T(SUSTAIN) | T(COLLAB),
     {"Supply Chain", "Facilities", "Logistics", "Business Operations", "IT Services",
      "Vendor Management"}},
    {"Marketing",
     "Marketing",
     "Marketing Specialist",
     70,
     T(DIGI_MKT) | T(SOCIAL) | T(GENAI),
     {"Brand", "Content", "Demand Generation", "Product Marketing", "Events", "Communications"}},
    {"Product",
     "Product",
     "Product Manager",
     60,
     T(MOBILE) | T(ACCESS) | T(STRATEGY) | T(AI_TOOLS),
     {"Core Product", "Product Design", "Mobile Product", "Platform Product", "User Research",
      "Growth Product"}},
    {"Data",
     "Data",
     "Data Scientist",
     60,
     T(DATA_LIT) | T(AI_TOOLS) | T(GENAI) | T(AUTOMATION),
     {"Analytics", "Data Engineering", "Machine Learning", "Business Intelligence",
      "Data Governance", "Experimentation"}},
    {"Finance",
     "Finance",
     "Financial Analyst",
     60,
     T(FINANCE) | T(DATA_LIT) | T(AUTOMATION),
     {"FP&A", "Accounting", "Treasury", "Tax", "Procurement", "Internal Audit"}},
    {"HR",
     "HR",
     "HR Generalist",
     50,
     T(INCL_LANG) | T(NEURO) | T(LGBTQ) | T(WELLBEING) | T(CAREER),
     {"Talent Acquisition", "Learning", "Total Rewards", "People Operations",
      "HR Business Partners", "Culture and Inclusion"}},
    {"Legal",
     "Legal",
     "Legal Counsel",
     30,
     T(CYBER) | T(NEGOTIATION) | T(ACCESS),
     {"Corporate", "Commercial", "Privacy", "Compliance", "Employment Law",
      "Intellectual Property"}},
    {"Executive",
     "Executive",
     "Executive Assistant",
     0,
     T(STRATEGY) | T(LEADERSHIP),
     {"Office of the CEO"}},
};

/* Second word of team names: "Payments Core", "Payments Insights 2". */
static const char *const team_subs[] = {
    "Core",    "Foundations", "Experience", "Insights",
    "Quality", "Enablement",  "Automation", "Integrations",
};
enum { NSUBS = sizeof(team_subs) / sizeof(team_subs[0]) };

static const char *const lang_codes[] = {
    "en", "fr", "de", "es", "pt", "it", "hi", "zh", "ja",
    "ko", "ar", "pl", "vi", "yo", "kn", "ms", "ta", "nl",
};
/* clang-format off */
enum { L_EN, L_FR, L_DE, L_ES, L_PT, L_IT, L_HI, L_ZH, L_JA, L_KO, L_AR, L_PL, L_VI, L_YO,
       L_KN, L_MS, L_TA, L_NL, NLANGS };
/* clang-format on */

/* Languages people pick up besides their own: the extra-language draw. */
static const uint8_t extra_langs[] = {L_ES, L_FR, L_DE, L_ZH, L_JA, L_PT, L_IT, L_NL};

enum { NORIGINS = 14 };

struct location {
	const char *name;
	const char *zone;
	uint16_t weight;	   /* share of headcount */
	int8_t lang[2];		   /* local languages besides English, -1 = none */
	uint16_t origin[NORIGINS]; /* where people's names come from, by origin */
};

enum { NLOC = 10, LOC_HQ = 0 };

/* Origins: anglo, hispanic, french, german, indian, chinese, japanese, brazilian,
 * west african, arabic, korean, italian, polish, vietnamese. */
static const struct location locations[NLOC] = {
    {"New York", "America/New_York", 17, {-1, -1}, {45, 15, 1, 2, 8, 7, 1, 1, 6, 3, 4, 5, 2, 1}},
    {"San Francisco",
     "America/Los_Angeles",
     13,
     {-1, -1},
     {36, 12, 1, 2, 14, 14, 4, 1, 2, 2, 5, 2, 1, 4}},
    {"London", "Europe/London", 14, {-1, -1}, {50, 3, 4, 2, 12, 4, 1, 1, 8, 5, 1, 4, 5, 1}},
    {"Paris", "Europe/Paris", 8, {L_FR, -1}, {5, 4, 60, 2, 1, 2, 1, 1, 7, 12, 1, 4, 1, 3}},
    {"Berlin", "Europe/Berlin", 8, {L_DE, -1}, {6, 3, 4, 58, 2, 2, 1, 1, 2, 7, 1, 5, 10, 1}},
    {"Bangalore", "Asia/Kolkata", 16, {L_HI, L_KN}, {4, 1, 1, 1, 90, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
    {"Singapore", "Asia/Singapore", 7, {L_ZH, L_MS}, {10, 1, 1, 1, 15, 55, 3, 1, 1, 2, 4, 1, 1, 3}},
    {"Sydney", "Australia/Sydney", 6, {-1, -1}, {58, 2, 1, 2, 8, 10, 2, 1, 1, 3, 3, 4, 1, 6}},
    {"São Paulo", "America/Sao_Paulo", 7, {L_PT, -1}, {3, 6, 1, 3, 1, 1, 6, 70, 1, 4, 1, 8, 1, 1}},
    {"Tokyo", "Asia/Tokyo", 4, {L_JA, -1}, {5, 1, 1, 1, 1, 4, 85, 1, 1, 1, 4, 1, 1, 1}},
};

/* The language that goes with each name origin (anglo: English only). */
static const int8_t origin_lang[NORIGINS] = {
    -1, L_ES, L_FR, L_DE, L_HI, L_ZH, L_JA, L_PT, L_YO, L_AR, L_KO, L_IT, L_PL, L_VI,
};

/*
 * Name tables, one row per origin. "Display|ascii" gives the e-mail form when
 * the display form is not plain ASCII; otherwise the e-mail form is the name in
 * lower case without apostrophes or spaces. Every e-mail form is unique within
 * its table (checked by names_init), which keeps names and e-mails unique.
 */
enum { NPER = 24 };

static const char *const first_src[NORIGINS][NPER] = {
    {"James",	 "Olivia", "William", "Emma",  "Oliver", "Charlotte", "Jack",	"Amelia",
     "Henry",	 "Sophie", "Thomas",  "Grace", "Daniel", "Chloe",     "Samuel", "Emily",
     "Benjamin", "Hannah", "Liam",    "Zoe",   "Noah",	 "Ella",      "Ethan",	"Megan"},
    {"Alejandro", "Sofía|sofia", "Mateo",  "Valentina", "Santiago",	 "Camila",
     "Diego",	  "Lucía|lucia", "Javier", "Carmen",	"Andrés|andres", "Elena",
     "Pablo",	  "Ximena",	 "Carlos", "Daniela",	"Miguel",	 "Paula",
     "Luis",	  "Marisol",	 "Jorge",  "Guadalupe", "Raúl|raul",	 "Inés|ines"},
    {"Camille",		"Louis",     "Léa|lea",		  "Hugo",
     "Manon",		"Jules",     "Margaux",		  "Théo|theo",
     "Juliette",	"Antoine",   "Clémence|clemence", "Mathieu",
     "Océane|oceane",	"Baptiste",  "Élodie|elodie",	  "Nicolas",
     "Pauline",		"Julien",    "Amandine",	  "François|francois",
     "Aurélie|aurelie", "Guillaume", "Céline|celine",	  "Rémi|remi"},
    {"Lukas",  "Anna",	 "Felix",  "Lena",  "Maximilian",     "Leonie",	 "Jonas",    "Clara",
     "Paul",   "Hanna",	 "Leon",   "Marie", "Finn",	      "Johanna", "Moritz",   "Katharina",
     "Niklas", "Sophia", "Tobias", "Greta", "Jürgen|juergen", "Ursula",	 "Matthias", "Anja"},
    {"Aarav",	  "Priya", "Vihaan", "Ananya",	"Arjun",   "Diya",  "Rohan",  "Kavya",
     "Aditya",	  "Isha",  "Rahul",  "Neha",	"Karthik", "Pooja", "Vikram", "Sneha",
     "Siddharth", "Meera", "Nikhil", "Lakshmi", "Suresh",  "Divya", "Anil",   "Shreya"},
    {"Wei",   "Jing",	  "Hao",  "Xin", "Yifan", "Mei", "Jun",	 "Ling",
     "Zihan", "Xiaoming", "Yan",  "Bo",	 "Fang",  "Lei", "Hui",	 "Tao",
     "Qing",  "Ming",	  "Ying", "Kai", "Rui",	  "Shu", "Zhen", "Jia"},
    {"Haruto", "Yui", "Sota",  "Hina",	 "Riku",   "Aoi",   "Yuto",    "Sakura",
     "Ren",    "Mio", "Kaito", "Yuna",	 "Takumi", "Akari", "Hiroshi", "Yuki",
     "Kenji",  "Emi", "Daiki", "Nanami", "Shota",  "Ayaka", "Kazuki",  "Misaki"},
    {"João|joao", "Ana",    "Gabriel", "Beatriz", "Rafael",  "Larissa",		"Lucas",
     "Fernanda",  "Pedro",  "Juliana", "Thiago",  "Mariana", "Felipe",		"Letícia|leticia",
     "Gustavo",	  "Bianca", "Rodrigo", "Tatiana", "Bruno",   "Vitória|vitoria", "Leonardo",
     "Renata",	  "Caio",   "Yasmin"},
    {"Chinedu", "Adaeze",   "Oluwaseun", "Ngozi",     "Emeka",	  "Folake",  "Kwame",	"Ama",
     "Tunde",	"Chiamaka", "Kofi",	 "Abena",     "Ifeanyi",  "Yetunde", "Obinna",	"Nneka",
     "Kwabena", "Efua",	    "Babatunde", "Funmilayo", "Chukwuma", "Ayodele", "Kehinde", "Adwoa"},
    {"Omar", "Layla", "Youssef", "Fatima", "Karim",  "Amira", "Hassan",	 "Nour",
     "Ali",  "Salma", "Tariq",	 "Rania",  "Khalid", "Huda",  "Samir",	 "Zainab",
     "Rami", "Dalia", "Nabil",	 "Mariam", "Faisal", "Hiba",  "Mahmoud", "Rana"},
    {"Min-jun",	  "Seo-yeon", "Ji-ho",	    "Ha-eun",  "Do-yun",   "Ji-woo",  "Joon-ho", "Soo-ah",
     "Hyun-woo",  "Eun-ji",   "Seung-hoon", "Da-eun",  "Tae-yang", "Ye-jin",  "Jae-won", "Min-seo",
     "Dong-hyun", "Su-bin",   "Sang-woo",   "Hye-jin", "Jun-seo",  "Ji-yeon", "Woo-jin", "Na-rae"},
    {"Giulia", "Lorenzo",  "Francesca", "Matteo",   "Chiara",	"Alessandro", "Martina", "Davide",
     "Sara",   "Federico", "Elisa",	"Giovanni", "Alessia",	"Marco",      "Valeria", "Stefano",
     "Silvia", "Andrea",   "Federica",	"Riccardo", "Beatrice", "Luca",	      "Ilaria",	 "Paolo"},
    {"Jakub",	    "Zuzanna",	 "Kacper",   "Julia",	   "Szymon",	    "Maja",
     "Filip",	    "Zofia",	 "Wojciech", "Agnieszka",  "Michał|michal", "Katarzyna",
     "Piotr",	    "Magdalena", "Tomasz",   "Aleksandra", "Krzysztof",	    "Natalia",
     "Paweł|pawel", "Joanna",	 "Marcin",   "Ewa",	   "Łukasz|lukasz", "Monika"},
    {"Minh",  "Linh", "Huy",   "Trang", "Tuan",	  "Thao", "Duc",   "Lan",
     "Quang", "Ngoc", "Khanh", "Hoa",	"Phuong", "Nam",  "Thanh", "Vy",
     "Long",  "Mai",  "Bao",   "Anh",	"Dung",	  "Hanh", "Son",   "Vinh"},
};

static const char *const last_src[NORIGINS][NPER] = {
    {"Smith",	 "Johnson", "Williams", "Brown",    "Taylor", "Wilson",	 "Davies",  "Evans",
     "Thompson", "Walker",  "Wright",	"Robinson", "Hughes", "Clarke",	 "O'Brien", "Murphy",
     "Campbell", "Stewart", "Anderson", "Mitchell", "Cooper", "Bennett", "Harris",  "Reed"},
    {"García|garcia",
     "Rodríguez|rodriguez",
     "Martínez|martinez",
     "Hernández|hernandez",
     "López|lopez",
     "González|gonzalez",
     "Pérez|perez",
     "Sánchez|sanchez",
     "Ramírez|ramirez",
     "Torres",
     "Flores",
     "Rivera",
     "Gómez|gomez",
     "Díaz|diaz",
     "Morales",
     "Vargas",
     "Castillo",
     "Jiménez|jimenez",
     "Ortiz",
     "Ruiz",
     "Mendoza",
     "Navarro",
     "Romero",
     "Herrera"},
    {"Martin", "Bernard", "Dubois",  "Thomas",	 "Robert",   "Richard", "Petit",     "Durand",
     "Leroy",  "Moreau",  "Simon",   "Laurent",	 "Lefebvre", "Michel",	"Fournier",  "Girard",
     "Bonnet", "Dupont",  "Lambert", "Fontaine", "Rousseau", "Vincent", "Chevalier", "Mercier"},
    {"Müller|mueller",
     "Schmidt",
     "Schneider",
     "Fischer",
     "Weber",
     "Meyer",
     "Wagner",
     "Becker",
     "Schulz",
     "Hoffmann",
     "Schäfer|schaefer",
     "Koch",
     "Bauer",
     "Richter",
     "Klein",
     "Wolf",
     "Schröder|schroeder",
     "Neumann",
     "Schwarz",
     "Zimmermann",
     "Braun",
     "Krüger|krueger",
     "Hartmann",
     "Lange"},
    {"Sharma", "Patel",	  "Reddy",  "Iyer",	"Nair",	 "Gupta",      "Singh",	   "Kumar",
     "Rao",    "Menon",	  "Desai",  "Joshi",	"Mehta", "Chatterjee", "Banerjee", "Pillai",
     "Verma",  "Agarwal", "Kapoor", "Malhotra", "Bhat",	 "Krishnan",   "Shetty",   "Mukherjee"},
    {"Wang", "Li",   "Zhang", "Liu", "Chen",  "Yang",  "Huang", "Zhao",
     "Wu",   "Zhou", "Xu",    "Sun", "Ma",    "Zhu",   "Hu",	"Guo",
     "He",   "Lin",  "Gao",   "Luo", "Zheng", "Liang", "Tan",	"Lim"},
    {"Sato",	 "Suzuki",    "Takahashi", "Tanaka",	"Watanabe", "Ito",
     "Yamamoto", "Nakamura",  "Kobayashi", "Kato",	"Yoshida",  "Yamada",
     "Sasaki",	 "Yamaguchi", "Matsumoto", "Inoue",	"Kimura",   "Hayashi",
     "Shimizu",	 "Mori",      "Ikeda",	   "Hashimoto", "Ishikawa", "Ogawa"},
    {"Silva",	 "Santos",     "Oliveira", "Souza",   "Pereira",    "Costa",
     "Ferreira", "Almeida",    "Carvalho", "Gomes",   "Ribeiro",    "Araújo|araujo",
     "Barbosa",	 "Rocha",      "Lima",	   "Cardoso", "Nascimento", "Teixeira",
     "Moreira",	 "Cavalcanti", "Mendes",   "Freitas", "Azevedo",    "Monteiro"},
    {"Okafor", "Adeyemi",  "Mensah",	"Okonkwo", "Boateng",  "Eze",	"Adebayo", "Owusu",
     "Nwosu",  "Asante",   "Balogun",	"Obi",	   "Oyelaran", "Darko", "Chukwu",  "Afolabi",
     "Appiah", "Ogunleye", "Nwachukwu", "Osei",	   "Adeleke",  "Amoah", "Ibekwe",  "Oduya"},
    {"Haddad", "Khalil",  "Mansour", "Nasser",	"Saleh",   "Hamdan",  "Aziz",	 "Farouk",
     "Rahman", "Qureshi", "Abboud",  "Hussein", "Ibrahim", "Karam",   "Sabbagh", "Darwish",
     "Bakr",   "Najjar",  "Khoury",  "Salem",	"Shalabi", "Barakat", "Tamimi",	 "Jaber"},
    {"Kim",  "Lee",   "Park", "Choi", "Jung", "Kang", "Cho",  "Yoon", "Jang", "Han",  "Shin", "Seo",
     "Kwon", "Hwang", "Ahn",  "Song", "Yoo",  "Hong", "Jeon", "Ko",   "Moon", "Baek", "Nam",  "Oh"},
    {"Rossi",  "Russo",	   "Ferrari", "Esposito", "Bianchi", "Romano",	"Colombo", "Ricci",
     "Marino", "Greco",	   "Bruno",   "Gallo",	  "Conti",   "De Luca", "Mancini", "Giordano",
     "Rizzo",  "Lombardi", "Moretti", "Barbieri", "Fontana", "Santoro", "Mariani", "Rinaldi"},
    {"Nowak",
     "Kowalski",
     "Wiśniewski|wisniewski",
     "Wójcik|wojcik",
     "Kowalczyk",
     "Kamiński|kaminski",
     "Lewandowski",
     "Zieliński|zielinski",
     "Szymański|szymanski",
     "Woźniak|wozniak",
     "Dąbrowski|dabrowski",
     "Kozłowski|kozlowski",
     "Jankowski",
     "Mazur",
     "Kwiatkowski",
     "Krawczyk",
     "Piotrowski",
     "Grabowski",
     "Nowakowski",
     "Pawłowski|pawlowski",
     "Michalski",
     "Król|krol",
     "Wieczorek",
     "Jabłoński|jablonski"},
    {"Nguyễn|nguyen", "Trần|tran", "Lê|le",	  "Phạm|pham", "Hoàng|hoang", "Huỳnh|huynh",
     "Võ|vo",	      "Phan",	   "Vũ|vu",	  "Đặng|dang", "Bùi|bui",     "Đỗ|do",
     "Hồ|ho",	      "Ngô|ngo",   "Dương|duong", "Lý|ly",     "Trịnh|trinh", "Đinh|dinh",
     "Lâm|lam",	      "Tạ|ta",	   "Quách|quach", "Cao",       "Lương|luong", "Thái|thai"},
};

enum { NNAMES = NORIGINS * NPER };

/* Display and e-mail forms of every name, split once from the tables above. */
struct name_forms {
	char display[40];
	char ascii[24];
};

struct names {
	struct name_forms first[NNAMES], last[NNAMES];
};

static void
split_name(const char *src, struct name_forms *out)
{
	const char *bar = strchr(src, '|');
	size_t dlen = bar ? (size_t)(bar - src) : strlen(src);
	memcpy(out->display, src, dlen);
	out->display[dlen] = '\0';
	if (bar) {
		strcpy(out->ascii, bar + 1);
		return;
	}
	size_t k = 0;
	for (const char *p = src; *p; p++) {
		if (*p == '\'' || *p == ' ')
			continue;
		out->ascii[k++] = (*p >= 'A' && *p <= 'Z') ? (char)(*p - 'A' + 'a') : *p;
	}
	out->ascii[k] = '\0';
}

static int
forms_unique(const struct name_forms *f, const char *what, struct diag *d)
{
	for (int i = 0; i < NNAMES; i++)
		for (int j = i + 1; j < NNAMES; j++)
			if (strcmp(f[i].ascii, f[j].ascii) == 0 ||
			    strcmp(f[i].display, f[j].display) == 0)
				return diag_set(d, DIAG_INTERNAL,
						"gen-org: %s name table repeats '%s'", what,
						f[i].display);
	return 0;
}

/* Splits the tables and checks the uniqueness the name scheme relies on (a cheap invariant check).
 */
static int
names_init(struct names *n, struct diag *d)
{
	for (int o = 0; o < NORIGINS; o++)
		for (int j = 0; j < NPER; j++) {
			split_name(first_src[o][j], &n->first[o * NPER + j]);
			split_name(last_src[o][j], &n->last[o * NPER + j]);
		}
	if (forms_unique(n->first, "first", d) != 0 || forms_unique(n->last, "last", d) != 0)
		return -1;
	return 0;
}

static const char *const status_names[] = {"active", "leave", "terminated"};
static const char *const role_names[] = {"mentor", "mentee", "both"};
static const char *const slot_names[GENORG_NSLOTS] = {
    "mon-am", "mon-pm", "tue-am", "tue-pm", "wed-am",
    "wed-pm", "thu-am", "thu-pm", "fri-am", "fri-pm",
};

const char *
genorg_topic_name(int t)
{
	return t >= 0 && t < GENORG_NTOPICS ? topics[t].name : NULL;
}

int
genorg_topic_kind(int t)
{
	return t >= 0 && t < GENORG_NTOPICS ? topics[t].kind : -1;
}

const char *
genorg_department_name(int i)
{
	return i >= 0 && i < NDEPT_ALL ? departments[i].name : NULL;
}

const char *
genorg_location_name(int i)
{
	return i >= 0 && i < NLOC ? locations[i].name : NULL;
}

const char *
genorg_location_zone(int i)
{
	return i >= 0 && i < NLOC ? locations[i].zone : NULL;
}

const char *
genorg_language_code(int i)
{
	return i >= 0 && i < NLANGS ? lang_codes[i] : NULL;
}

const char *
genorg_generation_name(int i)
{
	return i >= 0 && i < 4 ? people_generations[i] : NULL;
}

const char *
genorg_slot_name(int i)
{
	return i >= 0 && i < GENORG_NSLOTS ? slot_names[i] : NULL;
}

int
genorg_generation_of(int birth_year)
{
	/* The importer's rule, so generated files agree with what import derives. */
	return people_generation_of(birth_year);
}

/* ---------------------------------------------------------------- the org */

enum team_kind { TEAM_CEO, TEAM_DEPT, TEAM_AREA, TEAM_SQUAD };

/* A team name: "Office of the CEO", "Sales Leadership", "Payments", "Payments Core 2". */
struct team {
	uint8_t kind; /* enum team_kind */
	uint8_t dept, area, sub;
	uint32_t seq; /* 1 for the first team of that name, then 2, 3, ... */
};

struct genorg {
	long n;
	uint64_t seed;
	struct genorg_person *people;
	struct team *teams;
	long nteams;
	struct names names;
};

/* Per-build scratch state: what only growing the tree needs. */
struct builder {
	struct genorg *g;
	struct rng rng;
	/* An allocation failed (as opposed to a broken invariant). */
	int oom;
	/* Descendants still to place under each person. */
	uint32_t *desc;
	/* Index of the next person to create. */
	long next;
	long teams_cap;
	/* People so far per first * NNAMES + last name. */
	uint32_t *name_count;
	/* Teams so far per name: [dept][area][sub], sub NSUBS for area-only names. */
	uint32_t seq[NDEPT_ALL][MAX_AREAS][NSUBS + 1];
	/* "<Dept> Leadership" teams so far. */
	uint32_t dept_seq[NDEPT_ALL];
	/* Next area a VP's new manager takes, per department. */
	uint32_t area_next[NDEPT_ALL];
	uint16_t loc_w[NLOC];
	/* Cumulative topic weights: [skills|wanted][junior|mid|senior][department][topic]. */
	uint32_t topic_cum[2][3][NDEPT_ALL][GENORG_NTOPICS];
};

enum { SPAN_MAX = 10 };

/* Most descendants a person at level L may hold so that spans of 10 always suffice. */
static uint32_t
gen_cap(int level)
{
	uint32_t cap = SPAN_MAX; /* level 4 leads level 1..3 people directly */
	for (int l = 5; l <= level; l++)
		cap = SPAN_MAX * (1 + cap);
	return cap;
}

static int
band_of(int level)
{
	return level <= 4 ? 0 : level == 5 ? 1 : 2;
}

/* Kind mix per band: [skills|wanted][band][kind], in percent. Wanted mirrors skills. */
static const uint16_t kind_mix[2][3][3] = {
    {{60, 32, 8}, {30, 30, 40}, {8, 17, 75}},
    {{10, 15, 75}, {35, 25, 40}, {60, 32, 8}},
};

static void
topic_tables_init(struct builder *b)
{
	for (int w = 0; w < 2; w++)
		for (int band = 0; band < 3; band++)
			for (int dep = 0; dep < NDEPT_ALL; dep++) {
				uint32_t sum = 0;
				for (int t = 0; t < GENORG_NTOPICS; t++) {
					uint32_t x =
					    kind_mix[w][band][topics[t].kind] * topics[t].weight;
					if (departments[dep].affinity & (1u << t))
						x *= 3;
					sum += x;
					b->topic_cum[w][band][dep][t] = sum;
				}
			}
}

/*
 * Draws a topic not in `exclude`. Rejection on the precomputed table is fast;
 * when the exclusions make it unlikely, fall back to an exact draw over what is left.
 */
static int
draw_topic(struct builder *b, int which, int band, int dep, uint32_t exclude)
{
	const uint32_t *cum = b->topic_cum[which][band][dep];
	for (int tries = 0; tries < 16; tries++) {
		uint32_t x = rng_below(&b->rng, cum[GENORG_NTOPICS - 1]);
		int t = 0;
		while (cum[t] <= x)
			t++;
		if (!(exclude & (1u << t)))
			return t;
	}
	uint16_t w[GENORG_NTOPICS];
	uint32_t prev = 0, any = 0;
	for (int t = 0; t < GENORG_NTOPICS; t++) {
		uint32_t x = cum[t] - prev;
		prev = cum[t];
		w[t] = (exclude & (1u << t)) ? 0 : (uint16_t)x; /* at most 75 * 20 * 3 */
		any |= w[t];
	}
	return any ? rng_pick(&b->rng, w, GENORG_NTOPICS) : -1;
}

static uint32_t
draw_topics(struct builder *b, int which, int band, int dep, int count, uint32_t exclude)
{
	uint32_t set = 0;
	for (int k = 0; k < count; k++) {
		int t = draw_topic(b, which, band, dep, exclude | set);
		if (t < 0)
			break;
		set |= 1u << t;
	}
	return set;
}

/* Mean age by level (index = level), before noise. */
static const uint8_t mean_age[10] = {0, 25, 29, 34, 39, 42, 46, 50, 54, 57};

static int
days_in_month(int y, int m)
{
	static const uint8_t days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return days[m - 1] + (m == 2 && leap);
}

/* Age, birth year, generation and hire date; people join at 21 or later. */
static void
draw_dates(struct builder *b, struct genorg_person *p)
{
	struct rng *r = &b->rng;
	/* Sum of three uniforms: a bell curve with sd ~5.5 years, in integers only. */
	int age = mean_age[p->level] - 15 + (int)rng_below(r, 11) + (int)rng_below(r, 11) +
		  (int)rng_below(r, 11);
	if (rng_pct(r, 8)) /* career changers and long careers */
		age += 5 + (int)rng_below(r, 12);
	if (age < 21)
		age = 21;
	if (age > 68)
		age = 68;
	p->birth_year = (uint16_t)(AS_OF_YEAR - 1 - age);
	p->generation = (uint8_t)genorg_generation_of(p->birth_year);

	int max_tenure = age - 21;
	if (max_tenure > 35)
		max_tenure = 35;
	int t = (int)rng_below(r, (uint32_t)max_tenure + 1);
	if (p->level <=
	    4) { /* juniors: the smaller of two draws, short tenures are the most common */
		int t2 = (int)rng_below(r, (uint32_t)max_tenure + 1);
		t = t < t2 ? t : t2;
	}
	p->hire_year = (uint16_t)(AS_OF_YEAR - 1 - t);
	p->hire_month = (uint8_t)(1 + rng_below(r, 12));
	p->hire_day =
	    (uint8_t)(1 + rng_below(r, (uint32_t)days_in_month(p->hire_year, p->hire_month)));
}

static void draw_languages(struct builder *b, struct genorg_person *p, int origin);

/* A name from the location's mix of origins; repeats are counted for disambiguation. */
static void
draw_name(struct builder *b, struct genorg_person *p)
{
	struct rng *r = &b->rng;
	int origin = rng_pick(r, locations[p->location].origin, NORIGINS);
	/* Some combine names of two origins (families, marriages): mostly local ones. */
	int last_origin = origin;
	uint32_t mix = rng_below(r, 100);
	if (mix < 12)
		last_origin = rng_pick(r, locations[p->location].origin, NORIGINS);
	else if (mix < 18)
		last_origin = (int)rng_below(r, NORIGINS);
	p->first = (uint16_t)(origin * NPER + (int)rng_below(r, NPER));
	p->last = (uint16_t)(last_origin * NPER + (int)rng_below(r, NPER));
	p->name_dup = b->name_count[(size_t)p->first * NNAMES + p->last]++;
	draw_languages(b, p, origin);
}

/* English for nearly all, the place's language(s), the family's, sometimes another. */
static void
draw_languages(struct builder *b, struct genorg_person *p, int origin)
{
	struct rng *r = &b->rng;
	uint32_t langs = 0;
	const struct location *loc = &locations[p->location];
	int anglo_place = loc->lang[0] < 0;
	if (anglo_place || origin == 0 || rng_pct(r, 96))
		langs |= 1u << L_EN;
	if (loc->lang[0] >= 0 && rng_pct(r, 85))
		langs |= 1u << loc->lang[0];
	if (loc->lang[1] >= 0 && rng_pct(r, 40))
		langs |= 1u << loc->lang[1];
	if (origin_lang[origin] >= 0 && rng_pct(r, 75))
		langs |= 1u << origin_lang[origin];
	if (rng_pct(r, 15))
		langs |= 1u << extra_langs[rng_below(r, sizeof(extra_langs))];
	p->languages = langs ? langs : 1u << L_EN;
}

/* Status, skills and wishes; people with reports are never terminated. */
static void
draw_profile(struct builder *b, struct genorg_person *p, int manages)
{
	static const uint16_t nskills_w[4] = {30, 35, 25, 10};
	static const uint16_t nwanted_w[3] = {40, 40, 20};
	struct rng *r = &b->rng;
	int band = band_of(p->level);
	if (manages)
		p->status = rng_pct(r, 2) ? GENORG_LEAVE : GENORG_ACTIVE;
	else {
		uint32_t x = rng_below(r, 100);
		p->status = x < 93 ? GENORG_ACTIVE : x < 98 ? GENORG_LEAVE : GENORG_TERMINATED;
	}
	p->skills = draw_topics(b, 0, band, p->department, 1 + rng_pick(r, nskills_w, 4), 0);
	p->wanted =
	    draw_topics(b, 1, band, p->department, 1 + rng_pick(r, nwanted_w, 3), p->skills);
}

static long
team_add(struct builder *b, int kind, int dept, int area, int sub)
{
	struct genorg *g = b->g;
	if (g->nteams == b->teams_cap) {
		long cap = b->teams_cap ? b->teams_cap * 2 : 256;
		struct team *t = realloc(g->teams, (size_t)cap * sizeof(*t));
		if (t == NULL) {
			b->oom = 1;
			return -1;
		}
		g->teams = t;
		b->teams_cap = cap;
	}
	struct team *t = &g->teams[g->nteams];
	t->kind = (uint8_t)kind;
	t->dept = (uint8_t)dept;
	t->area = (uint8_t)(area < 0 ? 0 : area);
	t->sub = (uint8_t)(sub < 0 ? NSUBS : sub);
	if (kind == TEAM_DEPT)
		t->seq = ++b->dept_seq[dept];
	else if (kind == TEAM_AREA || kind == TEAM_SQUAD)
		t->seq = ++b->seq[dept][t->area][t->sub];
	else
		t->seq = 1;
	return g->nteams++;
}

static int
area_count(int dept)
{
	int n = 0;
	while (n < MAX_AREAS && departments[dept].areas[n] != NULL)
		n++;
	return n;
}

/*
 * Creates person `manager`'s next report with `share` descendants of their own.
 * Location follows the manager most of the time (teams sit together); the rest
 * is drawn from the company's footprint.
 */
static long
person_add(struct builder *b, long manager, int level, int dept, uint32_t share)
{
	struct genorg *g = b->g;
	if (b->next >= g->n) /* the shares did not add up: a bug, never an overflow */
		return -1;
	long i = b->next++;
	struct genorg_person *p = &g->people[i];
	memset(p, 0, sizeof(*p));
	p->manager = (int32_t)manager;
	p->level = (uint8_t)level;
	p->department = (uint8_t)dept;
	b->desc[i] = share;
	if (manager < 0) {
		p->location = LOC_HQ;
	} else {
		const struct genorg_person *m = &g->people[manager];
		int stay = m->manager < 0 ? 60 : share > 0 ? 70 : 80;
		p->location = rng_pct(&b->rng, (uint32_t)stay)
				  ? m->location
				  : (uint8_t)rng_pick(&b->rng, b->loc_w, NLOC);
		g->people[manager].reports++;
	}
	draw_name(b, p);
	draw_dates(b, p);
	draw_profile(b, p, share > 0);
	if (manager < 0)
		p->status = GENORG_ACTIVE;
	return i;
}

/* Team and area of a new report of m: managers open teams, everyone else joins m's. */
static int
assign_team(struct builder *b, long i)
{
	struct genorg *g = b->g;
	struct genorg_person *p = &g->people[i];
	const struct genorg_person *m = &g->people[p->manager];
	int dept = p->department;
	if (m->manager < 0) /* m is the CEO: i heads a department */
		p->area = 0;
	else if (g->people[m->manager].manager < 0 && m->level >= 6 && b->desc[i] > 0)
		/* a VP's managers take the department's areas in turn */
		p->area = (uint8_t)(b->area_next[dept]++ % (uint32_t)area_count(dept));
	else
		p->area = m->area;

	long t;
	if (m->manager < 0)
		t = team_add(b, TEAM_DEPT, dept, 0, -1);
	else if (b->desc[i] > 0 && p->level == 7)
		t = team_add(b, TEAM_AREA, dept, p->area, -1);
	else if (b->desc[i] > 0 && (p->level == 5 || p->level == 6))
		t = team_add(b, TEAM_SQUAD, dept, p->area, (int)rng_below(&b->rng, NSUBS));
	else
		t = m->team;
	if (t < 0)
		return -1;
	p->team = (int32_t)t;
	return 0;
}

/* IC level of a leaf: under a level-4 lead 1..3, otherwise 1..4. */
static int
leaf_level(struct builder *b, int manager_level)
{
	static const uint16_t under_lead[3] = {30, 40, 30};
	static const uint16_t normal[4] = {20, 32, 30, 18};
	if (manager_level == 4)
		return 1 + rng_pick(&b->rng, under_lead, 3);
	return 1 + rng_pick(&b->rng, normal, 4);
}

/* Level of a manager holding `share` descendants, below a parent at level `max`. */
static int
manager_level(int max, uint32_t share)
{
	int want = share <= 10 ? 5 : share <= 60 ? 6 : share <= 400 ? 7 : 8;
	if (max == 4)
		return 4;
	return want < max ? want : max;
}

static int
add_report(struct builder *b, long m, int level, int dept, uint32_t share)
{
	long i = person_add(b, m, level, dept, share);
	return i < 0 ? -1 : assign_team(b, i);
}

/*
 * Splits `total` descendants among n reports with random weights, no share above
 * cap (the caller guarantees n * cap >= total).
 */
static void
partition(struct builder *b, uint32_t total, int n, uint32_t cap, uint32_t *share)
{
	uint32_t w[SPAN_MAX * 2], wsum = 0, given = 0;
	for (int j = 0; j < n; j++) {
		w[j] = 4 + rng_below(&b->rng, 5);
		wsum += w[j];
	}
	for (int j = 0; j < n; j++) {
		share[j] = (uint32_t)((uint64_t)total * w[j] / wsum);
		given += share[j];
	}
	for (int j = 0; given < total; j = (j + 1) % n, given++)
		share[j]++;
	uint32_t excess = 0;
	for (int j = 0; j < n; j++)
		if (share[j] > cap) {
			excess += share[j] - cap;
			share[j] = cap;
		}
	for (int j = 0; excess > 0 && j < n; j++) {
		uint32_t room = cap - share[j];
		uint32_t give = room < excess ? room : excess;
		share[j] += give;
		excess -= give;
	}
}

/*
 * Places the D descendants of a person below the CEO. Up to 10 fit as direct
 * reports. Beyond that the person gets n reports (5..10, more when the caps
 * demand it): k of them lead sub-teams that share the rest, sized around seven
 * (a typical team), and the others are individual contributors.
 */
static int
grow_manager(struct builder *b, long m, uint32_t D)
{
	const struct genorg_person *p = &b->g->people[m];
	int level = p->level, dept = p->department;
	if (D <= SPAN_MAX) {
		for (uint32_t j = 0; j < D; j++)
			if (add_report(b, m, leaf_level(b, level), dept, 0) != 0)
				return -1;
		return 0;
	}
	int child = level - 1;
	uint32_t cap = gen_cap(child);
	uint32_t n = 5 + rng_below(&b->rng, 6);
	uint32_t needed = (D + cap) / (cap + 1);
	n = n < needed ? needed : n;
	if (n > SPAN_MAX) /* cannot happen: shares never exceed gen_cap of their level */
		return -1;
	uint32_t rest = D - n;
	uint32_t k = (rest + 6) / 7, kmin = (rest + cap - 1) / cap;
	k = k < kmin ? kmin : k > n ? n : k;
	uint32_t share[SPAN_MAX];
	partition(b, rest, (int)k, cap, share);
	for (uint32_t j = 0; j < n; j++) {
		int lvl = j < k ? manager_level(child, share[j]) : leaf_level(b, level);
		if (add_report(b, m, lvl, dept, j < k ? share[j] : 0) != 0)
			return -1;
	}
	return 0;
}

/*
 * Places the CEO's D descendants: one subtree per department, sized by weight.
 * A department too big for one VP gets several (a million people needs ~15).
 */
static int
grow_ceo(struct builder *b, uint32_t D)
{
	if (D <= SPAN_MAX) { /* a tiny company: each report is a department of one */
		for (uint32_t j = 0; j < D; j++)
			if (add_report(b, 0, leaf_level(b, 9), (int)(j % NDEPT), 0) != 0)
				return -1;
		return 0;
	}
	uint32_t k = D / 8;
	k = k < 2 ? 2 : k > NDEPT ? NDEPT : k;
	uint32_t wsum = 0, given = 0, size[NDEPT];
	for (uint32_t d = 0; d < k; d++)
		wsum += departments[d].weight;
	for (uint32_t d = 0; d < k; d++) {
		size[d] = (uint32_t)((uint64_t)D * departments[d].weight / wsum);
		given += size[d];
	}
	for (uint32_t d = 0; given < D; d = (d + 1) % k, given++)
		size[d]++;
	uint32_t cap = gen_cap(8);
	for (uint32_t d = 0; d < k; d++) {
		if (size[d] == 0)
			continue;
		uint32_t heads = (size[d] + cap) / (cap + 1);
		uint32_t rest = size[d] - heads;
		for (uint32_t h = 0; h < heads; h++) {
			uint32_t s = rest / heads + (h < rest % heads);
			int lvl = s == 0 ? leaf_level(b, 9) : s <= 3 ? 5 : 8;
			if (add_report(b, 0, lvl, (int)d, s) != 0)
				return -1;
		}
	}
	return 0;
}

static int
grow(struct builder *b)
{
	struct genorg *g = b->g;
	person_add(b, -1, 9, DEPT_EXEC, (uint32_t)(g->n - 1));
	long t = team_add(b, TEAM_CEO, DEPT_EXEC, 0, -1);
	if (t < 0)
		return -1;
	g->people[0].team = (int32_t)t;
	/* The array is the BFS queue: reports are appended behind everyone already queued. */
	for (long i = 0; i < g->n; i++) {
		uint32_t D = b->desc[i];
		if (D == 0)
			continue;
		if (i >= b->next)
			return -1;
		int rc = i == 0 ? grow_ceo(b, D) : grow_manager(b, i, D);
		if (rc != 0)
			return -1;
	}
	return b->next == g->n ? 0 : -1;
}

static int
builder_init(struct builder *b, struct genorg *g)
{
	memset(b, 0, sizeof(*b));
	b->g = g;
	rng_seed(&b->rng, g->seed);
	b->desc = malloc((size_t)g->n * sizeof(*b->desc));
	b->name_count = calloc((size_t)NNAMES * NNAMES, sizeof(*b->name_count));
	if (b->desc == NULL || b->name_count == NULL)
		return -1;
	for (int l = 0; l < NLOC; l++)
		b->loc_w[l] = locations[l].weight;
	for (int dep = 0; dep < NDEPT_ALL; dep++)
		b->area_next[dep] = rng_below(&b->rng, (uint32_t)area_count(dep));
	topic_tables_init(b);
	return 0;
}

static void
builder_fini(struct builder *b)
{
	free(b->desc);
	free(b->name_count);
}

struct genorg *
genorg_new(const struct genorg_opts *opts, struct diag *d)
{
	if (opts->people < 1 || opts->people > GENORG_MAX_PEOPLE) {
		diag_set(d, DIAG_INVALID,
			 "gen-org: the number of people must be from 1 to %d, got %ld",
			 GENORG_MAX_PEOPLE, opts->people);
		return NULL;
	}
	struct genorg *g = calloc(1, sizeof(*g));
	if (g == NULL) {
		diag_set(d, DIAG_NOMEM, "gen-org: out of memory");
		return NULL;
	}
	g->n = opts->people;
	g->seed = opts->seed;
	if (names_init(&g->names, d) != 0) {
		genorg_delete(g);
		return NULL;
	}
	g->people = malloc((size_t)g->n * sizeof(*g->people));
	struct builder b;
	if (g->people == NULL || builder_init(&b, g) != 0) {
		if (g->people != NULL)
			builder_fini(&b);
		genorg_delete(g);
		diag_set(d, DIAG_NOMEM, "gen-org: out of memory for %ld people", opts->people);
		return NULL;
	}
	int rc = grow(&b);
	int oom = b.oom;
	builder_fini(&b);
	if (rc != 0) {
		genorg_delete(g);
		if (oom)
			diag_set(d, DIAG_NOMEM, "gen-org: out of memory for %ld people",
				 opts->people);
		else
			diag_set(d, DIAG_INTERNAL, "gen-org: the tree of %ld people did not add up",
				 opts->people);
		return NULL;
	}
	return g;
}

void
genorg_delete(struct genorg *g)
{
	if (g == NULL)
		return;
	free(g->people);
	free(g->teams);
	free(g);
}

long
genorg_count(const struct genorg *g)
{
	return g->n;
}

const struct genorg_person *
genorg_person(const struct genorg *g, long i)
{
	return i >= 0 && i < g->n ? &g->people[i] : NULL;
}

/* ---------------------------------------------------------------- text */

/* Appends into a fixed buffer; `full` records that something did not fit. */
struct sbuf {
	char *p, *end;
	int full;
};

static void
sb_str(struct sbuf *s, const char *str)
{
	size_t n = strlen(str);
	if ((size_t)(s->end - s->p) <= n) {
		s->full = 1;
		return;
	}
	memcpy(s->p, str, n);
	s->p += n;
}

static void
sb_char(struct sbuf *s, char c)
{
	if (s->end - s->p <= 1) {
		s->full = 1;
		return;
	}
	*s->p++ = c;
}

/* Unsigned decimal, zero-padded to `width` digits. */
static void
sb_uint(struct sbuf *s, unsigned long v, int width)
{
	char tmp[24];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	while (n < width)
		tmp[n++] = '0';
	while (n > 0)
		sb_char(s, tmp[--n]);
}

/* Ends the current field and returns its start. */
static const char *
sb_end(struct sbuf *s, const char *start)
{
	if (s->p < s->end)
		*s->p++ = '\0';
	else
		s->full = 1;
	return start;
}

static void
sb_id(struct sbuf *s, long i)
{
	sb_char(s, 'E');
	sb_uint(s, (unsigned long)i + 1, 6);
}

static void
sb_topics(struct sbuf *s, uint32_t set)
{
	int first = 1;
	for (int t = 0; t < GENORG_NTOPICS; t++)
		if (set & (1u << t)) {
			if (!first)
				sb_char(s, ';');
			sb_str(s, topics[t].name);
			first = 0;
		}
}

/* Middle initials that tell apart people sharing a first and last name. */
static void
sb_initials(struct sbuf *s, uint32_t dup)
{
	static const char letters[] = "MJRSALCDEKTBNPGHWFVOIUYZQX";
	char tmp[8];
	int n = 0;
	while (dup > 0) { /* bijective base 26: 1 -> M, 26 -> X, 27 -> MM */
		dup--;
		tmp[n++] = letters[dup % 26];
		dup /= 26;
	}
	while (n > 0) {
		sb_char(s, tmp[--n]);
		sb_str(s, ". ");
	}
}

static void
sb_title(struct sbuf *s, const struct genorg_person *p)
{
	const struct department *dep = &departments[p->department];
	if (p->level == 9) {
		sb_str(s, "Chief Executive Officer");
		return;
	}
	if (p->level >= 5) {
		static const char *const fmt[4][2] = {{"", " Manager"},
						      {"Senior ", " Manager"},
						      {"Director of ", ""},
						      {"VP of ", ""}};
		sb_str(s, fmt[p->level - 5][0]);
		sb_str(s, dep->mgmt);
		sb_str(s, fmt[p->level - 5][1]);
		return;
	}
	static const char *const ic_prefix[5] = {"", "Associate ", "", "Senior ", "Principal "};
	sb_str(s, p->level == 4 && p->reports > 0 ? "Lead " : ic_prefix[p->level]);
	sb_str(s, dep->ic);
}

static void
sb_team(struct sbuf *s, const struct team *t)
{
	const struct department *dep = &departments[t->dept];
	switch (t->kind) {
	case TEAM_CEO:
		sb_str(s, "Office of the CEO");
		return;
	case TEAM_DEPT:
		sb_str(s, dep->name);
		sb_str(s, " Leadership");
		break;
	case TEAM_AREA:
		sb_str(s, dep->areas[t->area]);
		break;
	default:
		sb_str(s, dep->areas[t->area]);
		sb_char(s, ' ');
		sb_str(s, team_subs[t->sub]);
		break;
	}
	if (t->seq > 1) {
		sb_char(s, ' ');
		sb_uint(s, t->seq, 1);
	}
}

int
genorg_format(const struct genorg *g, long i, struct genorg_row *row, struct diag *d)
{
	const struct genorg_person *p = &g->people[i];
	const struct name_forms *first = &g->names.first[p->first];
	const struct name_forms *last = &g->names.last[p->last];
	struct sbuf s = {row->buf, row->buf + sizeof(row->buf), 0};
	const char **f = row->field;
	char *start;

	start = s.p;
	sb_id(&s, i);
	f[0] = sb_end(&s, start);

	start = s.p;
	sb_str(&s, first->display);
	sb_char(&s, ' ');
	sb_initials(&s, p->name_dup);
	sb_str(&s, last->display);
	f[1] = sb_end(&s, start);

	start = s.p;
	sb_str(&s, first->ascii);
	sb_char(&s, '.');
	sb_str(&s, last->ascii);
	if (p->name_dup > 0)
		sb_uint(&s, p->name_dup + 1, 1);
	sb_str(&s, "@example.com");
	f[2] = sb_end(&s, start);

	start = s.p;
	sb_title(&s, p);
	f[3] = sb_end(&s, start);

	start = s.p;
	sb_uint(&s, p->level, 1);
	f[4] = sb_end(&s, start);

	f[5] = departments[p->department].name;

	start = s.p;
	sb_team(&s, &g->teams[p->team]);
	f[6] = sb_end(&s, start);

	f[7] = locations[p->location].name;
	f[8] = locations[p->location].zone;

	start = s.p;
	if (p->manager >= 0)
		sb_id(&s, p->manager);
	f[9] = sb_end(&s, start);

	start = s.p;
	sb_uint(&s, p->birth_year, 4);
	f[10] = sb_end(&s, start);

	f[11] = people_generations[p->generation];

	start = s.p;
	sb_uint(&s, p->hire_year, 4);
	sb_char(&s, '-');
	sb_uint(&s, p->hire_month, 2);
	sb_char(&s, '-');
	sb_uint(&s, p->hire_day, 2);
	f[12] = sb_end(&s, start);

	f[13] = status_names[p->status];

	start = s.p;
	sb_topics(&s, p->skills);
	f[14] = sb_end(&s, start);

	start = s.p;
	sb_topics(&s, p->wanted);
	f[15] = sb_end(&s, start);

	start = s.p;
	for (int l = 0, first_lang = 1; l < NLANGS; l++)
		if (p->languages & (1u << l)) {
			if (!first_lang)
				sb_char(&s, ';');
			sb_str(&s, lang_codes[l]);
			first_lang = 0;
		}
	f[16] = sb_end(&s, start);

	if (s.full)
		return diag_set(d, DIAG_INTERNAL, "gen-org: row %ld does not fit its buffer",
				i + 1);
	return 0;
}

/* ---------------------------------------------------------------- survey */

struct genorg_survey {
	long n;
	struct genorg_enrollment *entries;
};

/* FNV-1a: turns the program name into seed material, the same everywhere. */
static uint64_t
fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* Digital and inclusion topics: what reverse mentoring is about. */
static const uint32_t REVERSE_TOPICS = (1u << 17) - 1;

/* The reverse-mentoring topics of a set when it has some, else the whole set. */
static uint32_t
prefer_reverse(uint32_t set)
{
	return (set & REVERSE_TOPICS) ? set & REVERSE_TOPICS : set;
}

enum { NKEYS = 256 };

/*
 * Orders people by a small integer key (stable: ties keep org order) with a
 * counting sort; keys must be < NKEYS. Returns the order in `out`.
 */
static void
order_by_key(const uint8_t *key, long n, int32_t *out)
{
	long count[NKEYS + 1] = {0};
	for (long i = 0; i < n; i++)
		count[key[i] + 1]++;
	for (int k = 0; k < NKEYS; k++)
		count[k + 1] += count[k];
	for (long i = 0; i < n; i++)
		out[count[key[i]]++] = (int32_t)i;
}

/* A non-empty random subset of set (each member kept with probability 3/4). */
static uint32_t
some_of(struct rng *r, uint32_t set)
{
	if (set == 0)
		return 0;
	uint32_t keep = 0;
	int n = 0, members[GENORG_NTOPICS];
	for (int t = 0; t < GENORG_NTOPICS; t++)
		if (set & (1u << t)) {
			members[n++] = t;
			if (rng_pct(r, 75))
				keep |= 1u << t;
		}
	return keep ? keep : 1u << members[rng_below(r, (uint32_t)n)];
}

static uint16_t
draw_slots(struct rng *r, int level)
{
	int k = level <= 4 ? 3 + (int)rng_below(r, 4) : 2 + (int)rng_below(r, 3);
	int slot[GENORG_NSLOTS];
	uint16_t set = 0;
	for (int i = 0; i < GENORG_NSLOTS; i++)
		slot[i] = i;
	for (int i = 0; i < k; i++) { /* partial Fisher-Yates */
		int j = i + (int)rng_below(r, (uint32_t)(GENORG_NSLOTS - i));
		int tmp = slot[i];
		slot[i] = slot[j];
		slot[j] = tmp;
		set |= (uint16_t)(1u << slot[i]);
	}
	return set;
}

/*
 * Picks who signs up and as what. Balance decides the split: with capacities
 * averaging ~1.2 and supply aimed at ~1.25x demand, about 49% of the sign-ups are
 * mentees. They are the most senior people (level plus a little noise, so
 * adjacent levels mix): everyone from level 5 up in a typical org, then the
 * older juniors (levels 4, then 3), who learn from the youngest. Mentors are
 * drawn from the rest with a preference for the youngest levels. Active people
 * come before anyone on leave.
 */
static int
survey_pick(const struct genorg *g, struct rng *r, long size, uint8_t *role_of)
{
	long n = g->n;
	uint8_t *key = calloc((size_t)n, 1);
	int32_t *order = malloc((size_t)n * sizeof(*order));
	if (key == NULL || order == NULL) {
		free(key);
		free(order);
		return -1;
	}
	long mentees = (size * 486 + 500) / 1000;
	if (size >= 2 && mentees < 1)
		mentees = 1;
	if (size >= 2 && mentees >= size)
		mentees = size - 1;

	for (long i = 0; i < n; i++) {
		const struct genorg_person *p = &g->people[i];
		int inactive = p->status != GENORG_ACTIVE;
		/* Juniors who want only senior knowledge come last: the mentors are young. */
		int no_reverse_wish = p->level <= 4 && !(p->wanted & REVERSE_TOPICS);
		key[i] = (uint8_t)(inactive * 128 + no_reverse_wish * 8 + (9 - p->level) * 8 +
				   (int)rng_below(r, 20));
	}
	order_by_key(key, n, order);
	memset(role_of, 0xff, (size_t)n);
	for (long k = 0; k < mentees; k++)
		role_of[order[k]] = GENORG_MENTEE;

	for (long i = 0; i < n; i++) {
		const struct genorg_person *p = &g->people[i];
		int inactive = p->status != GENORG_ACTIVE;
		key[i] = (uint8_t)(inactive * 128 + p->level * 6 + (int)rng_below(r, 30));
	}
	order_by_key(key, n, order);
	long mentors = size - mentees;
	for (long k = 0; k < n && mentors > 0; k++)
		if (role_of[order[k]] == 0xff) {
			role_of[order[k]] = GENORG_MENTOR;
			mentors--;
		}
	free(key);
	free(order);
	return 0;
}

/* Moves capacities one step at a time until supply is 1.15..1.30x demand (or nothing moves). */
static void
survey_balance(struct genorg_survey *s, struct rng *r)
{
	long demand = 0, supply = 0, givers = 0;
	for (long i = 0; i < s->n; i++) {
		const struct genorg_enrollment *e = &s->entries[i];
		demand += e->role != GENORG_MENTOR;
		supply += e->capacity;
		givers += e->role != GENORG_MENTEE;
	}
	if (givers == 0 || demand == 0)
		return;
	long start = (long)rng_below(r, (uint32_t)s->n);
	/* Raise 1s before 2s, lower 3s before 2s, so capacities stay mostly 1..2. */
	for (int pass = 0; pass < 2; pass++)
		for (long k = 0; k < s->n; k++) {
			struct genorg_enrollment *e = &s->entries[(start + k) % s->n];
			if (e->role == GENORG_MENTEE)
				continue;
			if (supply * 100 < demand * 115 && e->capacity == 1 + pass) {
				e->capacity++;
				supply++;
			} else if (supply * 100 > demand * 130 && e->capacity == 3 - pass) {
				e->capacity--;
				supply--;
			}
		}
}

struct genorg_survey *
genorg_survey_new(const struct genorg *g, const char *program, long size, struct diag *d)
{
	if (program == NULL || program[0] == '\0') {
		diag_set(d, DIAG_INVALID, "gen-org: the survey needs a program name");
		return NULL;
	}
	if (size < 0 || size > g->n) {
		diag_set(d, DIAG_INVALID,
			 "gen-org: survey size %ld is not between 1 and the %ld people", size,
			 g->n);
		return NULL;
	}
	if (size == 0)
		size = (2 * g->n + 2) / 5 > 0 ? (2 * g->n + 2) / 5 : 1;

	struct genorg_survey *s = calloc(1, sizeof(*s));
	uint8_t *role_of = malloc((size_t)g->n);
	struct rng r;
	rng_seed(&r, g->seed ^ fnv1a(program));
	if (s == NULL || role_of == NULL ||
	    (s->entries = calloc((size_t)size, sizeof(*s->entries))) == NULL ||
	    survey_pick(g, &r, size, role_of) != 0) {
		free(role_of);
		genorg_survey_delete(s);
		diag_set(d, DIAG_NOMEM, "gen-org: out of memory for a survey of %ld", size);
		return NULL;
	}
	static const uint16_t cap_w[3] = {85, 12, 3};
	for (long i = 0; i < g->n; i++) {
		if (role_of[i] == 0xff)
			continue;
		const struct genorg_person *p = &g->people[i];
		struct genorg_enrollment *e = &s->entries[s->n++];
		e->person = (int32_t)i;
		e->role = role_of[i];
		if (rng_pct(&r, 6))
			e->role = GENORG_BOTH;
		e->capacity = e->role == GENORG_MENTEE ? 0 : (uint8_t)(1 + rng_pick(&r, cap_w, 3));
		e->offered = e->role == GENORG_MENTEE ? 0 : some_of(&r, prefer_reverse(p->skills));
		e->wanted = e->role == GENORG_MENTOR ? 0 : some_of(&r, prefer_reverse(p->wanted));
		e->availability = draw_slots(&r, p->level);
		e->consent = !rng_pct(&r, 4);
	}
	free(role_of);
	survey_balance(s, &r);
	return s;
}

void
genorg_survey_delete(struct genorg_survey *s)
{
	if (s == NULL)
		return;
	free(s->entries);
	free(s);
}

long
genorg_survey_count(const struct genorg_survey *s)
{
	return s->n;
}

const struct genorg_enrollment *
genorg_survey_entry(const struct genorg_survey *s, long i)
{
	return i >= 0 && i < s->n ? &s->entries[i] : NULL;
}

int
genorg_survey_format(const struct genorg_survey *s, long i, struct genorg_row *row,
		     struct diag *d)
{
	const struct genorg_enrollment *e = &s->entries[i];
	struct sbuf b = {row->buf, row->buf + sizeof(row->buf), 0};
	const char **f = row->field;
	char *start;

	start = b.p;
	sb_id(&b, e->person);
	f[0] = sb_end(&b, start);

	f[1] = role_names[e->role];

	start = b.p;
	if (e->role != GENORG_MENTEE)
		sb_uint(&b, e->capacity, 1);
	f[2] = sb_end(&b, start);

	start = b.p;
	sb_topics(&b, e->offered);
	f[3] = sb_end(&b, start);

	start = b.p;
	sb_topics(&b, e->wanted);
	f[4] = sb_end(&b, start);

	start = b.p;
	for (int k = 0, first = 1; k < GENORG_NSLOTS; k++)
		if (e->availability & (1u << k)) {
			if (!first)
				sb_char(&b, ';');
			sb_str(&b, slot_names[k]);
			first = 0;
		}
	f[5] = sb_end(&b, start);
	f[6] = e->consent ? "yes" : "no";
	if (b.full)
		return diag_set(d, DIAG_INTERNAL, "gen-org: survey row %ld does not fit its buffer",
				i + 1);
	return 0;
}
