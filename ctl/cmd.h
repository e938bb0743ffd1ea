/*
 * The commands of the control protocol, one function each, grouped by the
 * table they act on (cmd_pool4.c, cmd_bib.c, cmd_session.c,
 * cmd_instance.c). Each reads its checked arguments from the request,
 * acts on the engine and writes its reply members, or fails with one line
 * and changes nothing. request.c lists them with their arguments.
 */
#ifndef NAT64_CTL_CMD_H
#define NAT64_CTL_CMD_H

#include "request.h"

int cmd_hello(struct request *r);

int cmd_pool4_display(struct request *r);
int cmd_pool4_usage(struct request *r);
int cmd_pool4_sets(struct request *r);
int cmd_pool4_add(struct request *r);
int cmd_pool4_remove(struct request *r);
int cmd_pool4_flush(struct request *r);

int cmd_bib_display(struct request *r);
int cmd_bib_add(struct request *r);
int cmd_bib_remove(struct request *r);

int cmd_session_display(struct request *r);

int cmd_stats_display(struct request *r);
int cmd_global_display(struct request *r);
int cmd_global_update(struct request *r);
int cmd_file_handle(struct request *r);

#endif
