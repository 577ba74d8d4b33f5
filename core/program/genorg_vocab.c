/*
 * genorg_vocab: gen-org's fixed vocabulary (topics, departments and their
 * areas, locations, languages, name tables by origin) and the accessors of
 * genorg.h that read it. Callers: the other genorg*.c files (through
 * genorg_internal.h), `tandem gen-org`, the tests. Contract: genorg.h; the
 * tables never change, since the topic names are shared with the policies and
 * the pinned digests of the tests depend on every entry.
 */
#include "program/genorg_internal.h"

#include <string.h>

#include "program/people.h"

const char *const genorg_columns[GENORG_NCOLS] = {
    "id",	 "name",     "email",	 "title",	  "level",	"department",
    "team",	 "location", "timezone", "manager",	  "birth_year", "generation",
    "hire_date", "status",   "skills",	 "topics_wanted", "languages",
};

const char *const genorg_survey_columns[GENORG_SURVEY_NCOLS] = {
    "person", "role", "capacity", "topics_offered", "topics_wanted", "availability", "consent",
};


/* The vocabulary shared with the matching policies: names must not change. */
const struct topic genorg__topics[GENORG_NTOPICS] = {
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

/* Ordered by weight: small orgs keep only the first few departments. */
const struct department genorg__departments[NDEPT_ALL] = {
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
const char *const genorg__team_subs[NSUBS] = {
    "Core",    "Foundations", "Experience", "Insights",
    "Quality", "Enablement",  "Automation", "Integrations",
};
_Static_assert(sizeof(genorg__team_subs) / sizeof(genorg__team_subs[0]) == NSUBS, "NSUBS counts team_subs");

const char *const genorg__lang_codes[NLANGS] = {
    "en", "fr", "de", "es", "pt", "it", "hi", "zh", "ja",
    "ko", "ar", "pl", "vi", "yo", "kn", "ms", "ta", "nl",
};

/* Languages people pick up besides their own: the extra-language draw. */
const uint8_t genorg__extra_langs[NEXTRA_LANGS] = {L_ES, L_FR, L_DE, L_ZH, L_JA, L_PT, L_IT, L_NL};


/* Origins: anglo, hispanic, french, german, indian, chinese, japanese, brazilian,
 * west african, arabic, korean, italian, polish, vietnamese. */
const struct location genorg__locations[NLOC] = {
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
const int8_t genorg__origin_lang[NORIGINS] = {
    -1, L_ES, L_FR, L_DE, L_HI, L_ZH, L_JA, L_PT, L_YO, L_AR, L_KO, L_IT, L_PL, L_VI,
};

/*
 * Name tables, one row per origin. "Display|ascii" gives the e-mail form when
 * the display form is not plain ASCII; otherwise the e-mail form is the name in
 * lower case without apostrophes or spaces. Every e-mail form is unique within
 * its table (checked by names_init), which keeps names and e-mails unique.
 */


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
int
genorg__names_init(struct names *n, struct diag *d)
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

const char *const genorg__status_names[3] = {"active", "leave", "terminated"};
const char *const genorg__role_names[3] = {"mentor", "mentee", "both"};
const char *const genorg__slot_names[GENORG_NSLOTS] = {
    "mon-am", "mon-pm", "tue-am", "tue-pm", "wed-am",
    "wed-pm", "thu-am", "thu-pm", "fri-am", "fri-pm",
};

const char *
genorg_topic_name(int t)
{
	return t >= 0 && t < GENORG_NTOPICS ? genorg__topics[t].name : NULL;
}

int
genorg_topic_kind(int t)
{
	return t >= 0 && t < GENORG_NTOPICS ? genorg__topics[t].kind : -1;
}

const char *
genorg_department_name(int i)
{
	return i >= 0 && i < NDEPT_ALL ? genorg__departments[i].name : NULL;
}

const char *
genorg_location_name(int i)
{
	return i >= 0 && i < NLOC ? genorg__locations[i].name : NULL;
}

const char *
genorg_location_zone(int i)
{
	return i >= 0 && i < NLOC ? genorg__locations[i].zone : NULL;
}

const char *
genorg_language_code(int i)
{
	return i >= 0 && i < NLANGS ? genorg__lang_codes[i] : NULL;
}

const char *
genorg_generation_name(int i)
{
	return i >= 0 && i < 4 ? people_generations[i] : NULL;
}

const char *
genorg_slot_name(int i)
{
	return i >= 0 && i < GENORG_NSLOTS ? genorg__slot_names[i] : NULL;
}

int
genorg_generation_of(int birth_year)
{
	/* The importer's rule, so generated files agree with what import derives. */
	return people_generation_of(birth_year);
}
