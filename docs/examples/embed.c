/*
 * embed.c: linking libtandem into your own program.
 *
 *   cc embed.c $(pkg-config --cflags --libs tandem) -o embed
 *   ./embed WORKSPACE/tandem.db people.csv
 *
 * Imports people (all-or-nothing), prints how many there are, then solves a
 * small assignment with mentor capacities.
 */
#include <stdio.h>
#include <string.h>

#include <tandem.h>

static void
print_error(void *ud, const char *message)
{
	(void)ud;
	fprintf(stderr, "%s\n", message);
}

int
main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s DB CSV\n", argv[0]);
		return 2;
	}
	struct tandem_error err;
	struct tandem *t = tandem_open(argv[1], 1, &err);
	if (t == NULL) {
		fprintf(stderr, "open: %s\n", err.message);
		return 1;
	}
	struct tandem_import_summary sum;
	if (tandem_import_people(t, argv[2], 0, &sum, print_error, NULL, &err) != 0) {
		fprintf(stderr, "import: %s\n", err.message);
		tandem_close(t);
		return 1;
	}
	printf("tandem %s: imported %ld people (%ld new, %ld updated, %ld unchanged)\n",
	       tandem_version(), sum.total, sum.created, sum.updated, sum.unchanged);

	/* 3 mentees x 2 mentors, the second mentor takes two mentees. */
	const double scores[] = {9, 1,
				 8, 7,
				 2, 6};
	const int capacity[] = {1, 2};
	int row_to_col[3];
	double total;
	if (tandem_assign(scores, 3, 2, NULL, capacity, 1, row_to_col, &total, &err) != 0) {
		fprintf(stderr, "assign: %s\n", err.message);
		tandem_close(t);
		return 1;
	}
	printf("assignment total %.0f:", total);
	for (int i = 0; i < 3; i++)
		printf(" %d->%d", i, row_to_col[i]);
	printf("\n");
	tandem_close(t);
	return 0;
}
