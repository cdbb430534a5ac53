/*
 * Exception handlers of the footprint firmware: no semihosting and no output, as on a product
 * without a console. A fault stops the core in a loop, where a debugger finds it (the stacked
 * pc and lr say where it happened); a product would rather log the fault and reset
 * (SCB->AIRCR = 0x05FA0004). No interrupt is ever enabled, so the other vectors are never
 * taken; they share the same loop rather than jump through garbage.
 */
void Default_Handler(void);

void Default_Handler(void)
{
    for (;;) {
    }
}

void NMI_Handler(void) __attribute__((alias("Default_Handler")));
void HardFault_Handler(void) __attribute__((alias("Default_Handler")));
void MemManage_Handler(void) __attribute__((alias("Default_Handler")));
void BusFault_Handler(void) __attribute__((alias("Default_Handler")));
void UsageFault_Handler(void) __attribute__((alias("Default_Handler")));
void SecureFault_Handler(void) __attribute__((alias("Default_Handler")));
void SVC_Handler(void) __attribute__((alias("Default_Handler")));
void DebugMon_Handler(void) __attribute__((alias("Default_Handler")));
void PendSV_Handler(void) __attribute__((alias("Default_Handler")));
void SysTick_Handler(void) __attribute__((alias("Default_Handler")));
