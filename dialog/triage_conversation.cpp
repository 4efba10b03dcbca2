// Placeholder while the machine is written.
#include "dialog/triage_conversation.h"
