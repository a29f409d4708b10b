package dev.baton.spring;

import org.springframework.boot.autoconfigure.condition.ConditionOutcome;
import org.springframework.boot.autoconfigure.condition.SpringBootCondition;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.core.type.AnnotatedTypeMetadata;

/** Matches when {@code spring.datasource.url} is a {@code jdbc:baton:} URL. */
class OnBatonUrlCondition extends SpringBootCondition {
    static final String PREFIX = "jdbc:baton:";

    @Override
    public ConditionOutcome getMatchOutcome(ConditionContext context, AnnotatedTypeMetadata metadata) {
        String url = context.getEnvironment().getProperty("spring.datasource.url");
        return url != null && url.startsWith(PREFIX)
                ? ConditionOutcome.match("spring.datasource.url is a " + PREFIX + " URL")
                : ConditionOutcome.noMatch("spring.datasource.url is not a " + PREFIX + " URL");
    }
}
