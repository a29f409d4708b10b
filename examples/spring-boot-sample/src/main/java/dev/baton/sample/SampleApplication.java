package dev.baton.sample;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * A Spring Boot application on Baton: {@code spring.datasource.url=jdbc:baton:zk://...} in application.properties
 * and the {@code baton-spring-boot-starter} on the class path; nothing else is Baton-specific.
 */
@SpringBootApplication
public class SampleApplication {
    public static void main(String[] args) {
        SpringApplication.run(SampleApplication.class, args);
    }
}
