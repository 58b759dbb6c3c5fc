/*
 * commands.h - the subcommands of `officemeter`.
 *
 * Each takes argc/argv starting at its own name (argv[0] = "check") and
 * returns the process exit status: 0 on success, 1 on a failure the user
 * must act on (a bad file, a meter that does not answer), 2 on bad usage.
 */
#ifndef OFFICEMETER_CLI_COMMANDS_H
#define OFFICEMETER_CLI_COMMANDS_H

int om_cmd_check(int argc, char **argv);
int om_cmd_probe(int argc, char **argv);
int om_cmd_sim(int argc, char **argv);
int om_cmd_list(int argc, char **argv);

#endif
